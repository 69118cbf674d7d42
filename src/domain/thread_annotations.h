#pragma once
// Clang's thread-safety annotations, so that what a mutex guards is written where the compiler
// can read it (`clang -Wthread-safety`), not only in prose. Under GCC, which has no such
// analysis, they compile to nothing.
#if defined(__clang__)
#define GUARDED_BY(mutex) __attribute__((guarded_by(mutex)))
#define REQUIRES(mutex) __attribute__((requires_capability(mutex)))
#else
#define GUARDED_BY(mutex)
#define REQUIRES(mutex)
#endif
