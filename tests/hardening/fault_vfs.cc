#include "tests/hardening/fault_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace custody::hardening {
namespace {

struct Switches {
  std::atomic<int> write_code{0};
  std::atomic<std::int64_t> write_after{0};
  std::atomic<int> sync_code{0};
  std::atomic<int> read_code{0};
  std::atomic<std::int64_t> injected{0};
  std::atomic<std::int64_t> writes{0};
};

Switches& Faults() {
  static Switches switches;
  return switches;
}

sqlite3_vfs* g_real = nullptr;  // the default VFS everything is passed to
sqlite3_vfs g_vfs;

// Our file: the real VFS's file follows it in the same allocation.
struct FaultFile {
  sqlite3_file base;
  sqlite3_file* real;
};

sqlite3_file* Real(sqlite3_file* file) { return reinterpret_cast<FaultFile*>(file)->real; }

// The code a write must fail with, or 0 to let it through.
int WriteFault() {
  Switches& f = Faults();
  const int code = f.write_code.load();
  if (code == 0) return 0;
  std::int64_t left = f.write_after.load();
  while (left > 0 && !f.write_after.compare_exchange_weak(left, left - 1)) {
  }
  if (left > 0) return 0;
  ++f.injected;
  return code;
}

int Injected(int code) {
  if (code != 0) ++Faults().injected;
  return code;
}

int Close(sqlite3_file* file) { return Real(file)->pMethods->xClose(Real(file)); }

int Read(sqlite3_file* file, void* data, int amount, sqlite3_int64 offset) {
  if (int code = Injected(Faults().read_code.load())) return code;
  return Real(file)->pMethods->xRead(Real(file), data, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  if (int code = WriteFault()) return code;
  ++Faults().writes;
  return Real(file)->pMethods->xWrite(Real(file), data, amount, offset);
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  if (int code = WriteFault()) return code;
  return Real(file)->pMethods->xTruncate(Real(file), size);
}

int Sync(sqlite3_file* file, int flags) {
  if (int code = Injected(Faults().sync_code.load())) return code;
  return Real(file)->pMethods->xSync(Real(file), flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  return Real(file)->pMethods->xFileSize(Real(file), size);
}
int Lock(sqlite3_file* file, int level) { return Real(file)->pMethods->xLock(Real(file), level); }
int Unlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}
int CheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), out);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}
int SectorSize(sqlite3_file* file) { return Real(file)->pMethods->xSectorSize(Real(file)); }
int DeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}
int ShmMap(sqlite3_file* file, int page, int size, int extend, void volatile** out) {
  return Real(file)->pMethods->xShmMap(Real(file), page, size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return Real(file)->pMethods->xShmLock(Real(file), offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) { Real(file)->pMethods->xShmBarrier(Real(file)); }
int ShmUnmap(sqlite3_file* file, int delete_flag) {
  return Real(file)->pMethods->xShmUnmap(Real(file), delete_flag);
}
// No memory-mapped reads: every read goes through Read, where it can fail.
int Fetch(sqlite3_file*, sqlite3_int64, int, void** out) {
  *out = nullptr;
  return SQLITE_OK;
}
int Unfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

// In the order of sqlite3_io_methods (version 3).
const sqlite3_io_methods kMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  auto* ours = reinterpret_cast<FaultFile*>(file);
  ours->real = reinterpret_cast<sqlite3_file*>(ours + 1);
  ours->real->pMethods = nullptr;
  const int rc = g_real->xOpen(g_real, name, ours->real, flags, out_flags);
  // SQLite calls xClose whenever pMethods is set, even after a failed open.
  ours->base.pMethods = ours->real->pMethods != nullptr ? &kMethods : nullptr;
  return rc;
}

int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_real->xDelete(g_real, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_real->xAccess(g_real, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return g_real->xFullPathname(g_real, name, size, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return g_real->xDlOpen(g_real, name); }
void DlError(sqlite3_vfs*, int size, char* out) { g_real->xDlError(g_real, size, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return g_real->xDlSym(g_real, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { g_real->xDlClose(g_real, handle); }
int Randomness(sqlite3_vfs*, int size, char* out) { return g_real->xRandomness(g_real, size, out); }
int Sleep(sqlite3_vfs*, int micros) { return g_real->xSleep(g_real, micros); }
int CurrentTime(sqlite3_vfs*, double* out) { return g_real->xCurrentTime(g_real, out); }
int GetLastError(sqlite3_vfs*, int size, char* out) {
  return g_real->xGetLastError(g_real, size, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_real->xCurrentTimeInt64(g_real, out);
}

}  // namespace

bool FaultVfs::Register() {
  static std::once_flag once;
  static bool registered = false;
  std::call_once(once, [] {
    sqlite3_initialize();
    g_real = sqlite3_vfs_find(nullptr);
    if (g_real == nullptr || g_real->iVersion < 2) return;
    g_vfs = sqlite3_vfs{};
    g_vfs.iVersion = 2;
    g_vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + g_real->szOsFile;
    g_vfs.mxPathname = g_real->mxPathname;
    g_vfs.zName = kFaultVfsName;
    g_vfs.xOpen = Open;
    g_vfs.xDelete = Delete;
    g_vfs.xAccess = Access;
    g_vfs.xFullPathname = FullPathname;
    g_vfs.xDlOpen = DlOpen;
    g_vfs.xDlError = DlError;
    g_vfs.xDlSym = DlSym;
    g_vfs.xDlClose = DlClose;
    g_vfs.xRandomness = Randomness;
    g_vfs.xSleep = Sleep;
    g_vfs.xCurrentTime = CurrentTime;
    g_vfs.xGetLastError = GetLastError;
    g_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    registered = sqlite3_vfs_register(&g_vfs, /*makeDflt=*/0) == SQLITE_OK;
  });
  return registered;
}

void FaultVfs::FailWrites(int code, std::int64_t after) {
  Faults().write_after = after;
  Faults().write_code = code;
}

void FaultVfs::FailSyncs(int code) { Faults().sync_code = code; }

void FaultVfs::FailReads(int code) { Faults().read_code = code; }

void FaultVfs::Clear() {
  Faults().write_code = 0;
  Faults().write_after = 0;
  Faults().sync_code = 0;
  Faults().read_code = 0;
  Faults().injected = 0;
}

void FaultVfs::Flap(int flaps, std::chrono::milliseconds pause, int max_after) {
  for (int flap = 0; flap < flaps; ++flap) {
    std::this_thread::sleep_for(pause);
    if (flap % 2 == 0) {
      FailWrites(flap % 4 == 0 ? SQLITE_FULL : SQLITE_IOERR_WRITE, flap % max_after);
    } else {
      Clear();
    }
  }
  Clear();
}

std::int64_t FaultVfs::injected() { return Faults().injected.load(); }

std::int64_t FaultVfs::writes() { return Faults().writes.load(); }

}  // namespace custody::hardening
