#include "net/error.h"

const char *mqtls_strerror(int err)
{
    switch (err) {
#define MQTLS_ERROR_TEXT_(name, value, text) case (value): return (text);
    MQTLS_ERROR_TABLE(MQTLS_ERROR_TEXT_)
#undef MQTLS_ERROR_TEXT_
    default: return "unknown mqtls error";
    }
}

const char *mqtls_errname(int err)
{
    switch (err) {
#define MQTLS_ERROR_NAME_(name, value, text) case (value): return #name;
    MQTLS_ERROR_TABLE(MQTLS_ERROR_NAME_)
#undef MQTLS_ERROR_NAME_
    default: return "MQTLS_ERR_UNKNOWN";
    }
}
