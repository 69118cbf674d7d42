// Signed overflow the optimiser cannot see through: under -fsanitize=undefined with
// -fno-sanitize-recover=all this must abort, so the CTest test that runs it expects failure.
#include <cstdio>
#include <cstdlib>
#include <limits>

int main(int argc, char**) {
    volatile int big = std::numeric_limits<int>::max();
    const int sum = big + argc;  // argc >= 1: overflows
    std::printf("%d\n", sum);
    return EXIT_SUCCESS;
}
