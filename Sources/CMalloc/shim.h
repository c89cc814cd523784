// glibc's allocator controls (`malloc_trim`, `mallopt`), which Swift's Glibc module does not import.
#include <malloc.h>
