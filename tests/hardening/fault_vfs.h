#pragma once

// An SQLite VFS for tests that passes everything to the default VFS until it is told to fail:
// writes, syncs or reads then return the error code asked for, as a full or failing disk
// would. Register it once, then open the event store with Options::vfs_name = kFaultVfsName.
// The switches are process-wide and thread-safe; only files opened through this VFS fail.

#include <chrono>
#include <cstdint>

namespace custody::hardening {

inline constexpr char kFaultVfsName[] = "custody-fault";

class FaultVfs {
 public:
  // Registers the VFS (not as the default) on first call; later calls do nothing. False if
  // SQLite refused it.
  static bool Register();

  // Every write (and truncate) fails with `code` (e.g. SQLITE_FULL, SQLITE_IOERR_WRITE) after
  // `after` more writes have succeeded.
  static void FailWrites(int code, std::int64_t after = 0);
  // Every sync fails with `code` (e.g. SQLITE_IOERR_FSYNC).
  static void FailSyncs(int code);
  // Every read fails with `code` (e.g. SQLITE_IOERR_READ).
  static void FailReads(int code);
  // The disk is healthy again.
  static void Clear();
  // A disk that comes and goes, `flaps` times every `pause`: every other flap (the even ones)
  // fails writes (full or I/O error, in turn, after `flap % max_after` more writes), the others
  // heal it. Healthy at the end. `max_after` must be positive.
  static void Flap(int flaps, std::chrono::milliseconds pause, int max_after);

  // How many calls failed because of this VFS since the last Clear().
  static std::int64_t injected();
  // Successful writes since registration, to aim FailWrites(code, after) inside a commit.
  static std::int64_t writes();
};

}  // namespace custody::hardening
