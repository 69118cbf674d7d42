// Built into ThreadSanitizer builds only (CMakeLists.txt). librdkafka starts its threads and takes
// its locks through C11 <threads.h>, and glibc implements those functions by calling its own
// pthread internals directly, past the pthread_* entry points GCC 12's TSan runtime intercepts.
// Without this TSan has no state for librdkafka's threads (the first one dies with SIGSEGV in
// TSan's allocator) and sees none of its locks (every hand-off through its queues a false race).
// Defined in the executable, these C11 functions take precedence over glibc's for librdkafka
// and forward to the pthread functions TSan does intercept; glibc's mtx_t, cnd_t and once_flag
// wrap pthread_mutex_t, pthread_cond_t and pthread_once_t.
// librdkafka itself is not instrumented: its reference counts and flags are atomics TSan cannot
// see, so the calls it makes straight to intercepted functions (malloc, free, its rwlocks) would
// report its own objects' life cycles as races. The suppression below ignores those calls; the
// locks it takes through the functions here still order Ordinal's threads, and Ordinal's own
// code, callbacks from librdkafka included, stays fully checked.
#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace {

int c11_result(int pthread_result) {
    switch (pthread_result) {
        case 0:
            return thrd_success;
        case ETIMEDOUT:
            return thrd_timedout;
        case EBUSY:
            return thrd_busy;
        case ENOMEM:
        case EAGAIN:
            return thrd_nomem;
        default:
            return thrd_error;
    }
}

struct ThreadStart {
    thrd_start_t function;
    void* argument;
};

void* run_thread(void* start) {
    const ThreadStart copy = *static_cast<ThreadStart*>(start);
    std::free(start);
    return reinterpret_cast<void*>(static_cast<std::intptr_t>(copy.function(copy.argument)));
}

pthread_mutex_t* as_pthread(mtx_t* mutex) {
    return reinterpret_cast<pthread_mutex_t*>(mutex);
}
pthread_cond_t* as_pthread(cnd_t* condition) {
    return reinterpret_cast<pthread_cond_t*>(condition);
}

}  // namespace

extern "C" {

// The second and third lines: with librdkafka's own calls ignored, so are the hand-offs they
// made (a struct published through its rwlocks or atomics), and TSan may then report a lock
// taken below against that lock's initialisation: seen twice in one Kafka-tier run, both
// `mtx_lock` against `mtx_init` on a mutex in a struct librdkafka allocated. Only librdkafka calls
// these functions. A thread's creation stack (`thrd_create`), which every report about one of
// its threads carries, is left unmatched, so races in Ordinal's callbacks are still reported.
const char* __tsan_default_suppressions() {
    return "called_from_lib:librdkafka.so.1\n"
           "race:^mtx_\n"
           "race:^cnd_\n";
}

int thrd_create(thrd_t* thread, thrd_start_t function, void* argument) {
    auto* start = static_cast<ThreadStart*>(std::malloc(sizeof(ThreadStart)));
    if (start == nullptr) return thrd_nomem;
    *start = ThreadStart{function, argument};
    const int result = pthread_create(thread, nullptr, run_thread, start);
    if (result != 0) std::free(start);
    return c11_result(result);
}

int thrd_join(thrd_t thread, int* exit_code) {
    void* value = nullptr;
    const int result = pthread_join(thread, &value);
    if (result == 0 && exit_code != nullptr) {
        *exit_code = static_cast<int>(reinterpret_cast<std::intptr_t>(value));
    }
    return c11_result(result);
}

int thrd_detach(thrd_t thread) {
    return c11_result(pthread_detach(thread));
}

void call_once(once_flag* flag, void (*function)(void)) {
    pthread_once(reinterpret_cast<pthread_once_t*>(flag), function);
}

int mtx_init(mtx_t* mutex, int type) {
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    if (type & mtx_recursive) pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
    const int result = pthread_mutex_init(as_pthread(mutex), &attributes);
    pthread_mutexattr_destroy(&attributes);
    return c11_result(result);
}

int mtx_lock(mtx_t* mutex) {
    return c11_result(pthread_mutex_lock(as_pthread(mutex)));
}
int mtx_trylock(mtx_t* mutex) {
    return c11_result(pthread_mutex_trylock(as_pthread(mutex)));
}
int mtx_timedlock(mtx_t* __restrict mutex, const struct timespec* __restrict until) {
    return c11_result(pthread_mutex_timedlock(as_pthread(mutex), until));
}
int mtx_unlock(mtx_t* mutex) {
    return c11_result(pthread_mutex_unlock(as_pthread(mutex)));
}
void mtx_destroy(mtx_t* mutex) {
    pthread_mutex_destroy(as_pthread(mutex));
}

int cnd_init(cnd_t* condition) {
    return c11_result(pthread_cond_init(as_pthread(condition), nullptr));
}
int cnd_signal(cnd_t* condition) {
    return c11_result(pthread_cond_signal(as_pthread(condition)));
}
int cnd_broadcast(cnd_t* condition) {
    return c11_result(pthread_cond_broadcast(as_pthread(condition)));
}
int cnd_wait(cnd_t* condition, mtx_t* mutex) {
    return c11_result(pthread_cond_wait(as_pthread(condition), as_pthread(mutex)));
}
int cnd_timedwait(cnd_t* __restrict condition, mtx_t* __restrict mutex,
                  const struct timespec* __restrict until) {
    return c11_result(pthread_cond_timedwait(as_pthread(condition), as_pthread(mutex), until));
}
void cnd_destroy(cnd_t* condition) {
    pthread_cond_destroy(as_pthread(condition));
}

}  // extern "C"
