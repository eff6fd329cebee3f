#ifndef WINFLEET_CSHIMS_H
#define WINFLEET_CSHIMS_H
#include <curl/curl.h>
#endif
