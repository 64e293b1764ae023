// leak_canary.cpp — leaks on purpose. Built only in sanitizer builds; CTest's asan_leak_canary
// passes only if LeakSanitizer reports the leak, which proves LeakSanitizer is really active in
// the environment the asan test preset gives every test (ASAN_OPTIONS=detect_leaks=1).
#include <cstdio>
#include <cstdlib>

int main() {
  void* volatile p = std::malloc(77);
  p = nullptr;
  std::puts("leak_canary: dropped a 77-byte block");
  return 0;
}
