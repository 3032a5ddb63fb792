// Linked into every executable of an ASan build made with GCC (CIMSIM_SANITIZE, top-level
// CMakeLists.txt): tells AddressSanitizer the right stack whenever Debian's SystemC 2.3.4
// switches QuickThreads coroutines, which it annotates incompletely. See docs/sanitizers.md.
//
// SystemC 2.3.4 calls __sanitizer_start_switch_fiber(NULL, next->m_stack, next->m_stack_size)
// before each yield. For the main coroutine m_stack is NULL and the size 0, and a coroutine
// that terminates switches away through sc_cor_qt_aborthelp without any annotation. Either
// way ASan keeps wrong stack bounds for the code that then runs on the thread's own stack
// (the gtest bodies, the scheduler). With wrong bounds it skips __asan_handle_no_return,
// so frames unwound by a C++ exception leave their redzones poisoned, and a later call
// reusing that stack memory is reported as stack-buffer-underflow or unknown-crash.
//
// Both entry points are resolved through libsystemc's GOT, so definitions in the executable
// take precedence; they fix the bounds and call the real ones (RTLD_NEXT).
//  - __sanitizer_start_switch_fiber: (NULL, 0) becomes the calling thread's own stack.
//  - sc_cor_qt_aborthelp: runs on the stack being resumed; completes a switch to the stack
//    that contains the current frame (the thread's own stack, or a coroutine stack seen in
//    an earlier start_switch call).
#include <dlfcn.h>
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>

namespace {

struct StackRange {
  uintptr_t bottom = 0;
  size_t size_bytes = 0;
};

StackRange thread_stack() {
  thread_local const StackRange range = [] {
    StackRange r;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      void* low = nullptr;
      size_t n = 0;
      if (pthread_attr_getstack(&attr, &low, &n) == 0) r = {reinterpret_cast<uintptr_t>(low), n};
      pthread_attr_destroy(&attr);
    }
    return r;
  }();
  return range;
}

std::mutex& stacks_mutex() {
  static std::mutex* m = new std::mutex();
  return *m;
}

// Coroutine stacks by bottom address; a recycled mapping overwrites its entry.
std::map<uintptr_t, size_t>& coroutine_stacks() {
  static auto* m = new std::map<uintptr_t, size_t>();
  return *m;
}

using StartSwitchFn = void (*)(void**, const void*, size_t);
StartSwitchFn real_start_switch() {
  static const StartSwitchFn f =
      reinterpret_cast<StartSwitchFn>(dlsym(RTLD_NEXT, "__sanitizer_start_switch_fiber"));
  return f;
}

StackRange stack_containing(uintptr_t address) {
  StackRange own = thread_stack();
  if (address >= own.bottom && address - own.bottom < own.size_bytes) return own;
  std::lock_guard<std::mutex> lock(stacks_mutex());
  const std::map<uintptr_t, size_t>& stacks = coroutine_stacks();
  auto it = stacks.upper_bound(address);
  if (it == stacks.begin()) return {};
  --it;
  if (address - it->first < it->second) return {it->first, it->second};
  return {};
}

}  // namespace

extern "C" void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom,
                                               size_t size) {
  if (bottom == nullptr && size == 0) {
    StackRange own = thread_stack();
    bottom = reinterpret_cast<const void*>(own.bottom);
    size = own.size_bytes;
  } else {
    std::lock_guard<std::mutex> lock(stacks_mutex());
    coroutine_stacks()[reinterpret_cast<uintptr_t>(bottom)] = size;
  }
  real_start_switch()(fake_stack_save, bottom, size);
}

extern "C" void* sc_cor_qt_aborthelp(void* sp, void* old_cor, void* arg) {
  using HelpFn = void* (*)(void*, void*, void*);
  static const HelpFn real = reinterpret_cast<HelpFn>(dlsym(RTLD_NEXT, "sc_cor_qt_aborthelp"));
  char here = 0;
  StackRange target = stack_containing(reinterpret_cast<uintptr_t>(&here));
  if (target.size_bytes != 0) {
    // The terminated coroutine never runs again: no fake stack to save.
    real_start_switch()(nullptr, reinterpret_cast<const void*>(target.bottom), target.size_bytes);
    __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
  }
  return real(sp, old_cor, arg);
}
