/* rf_err: descriptions and names of the error codes. */
#include "base/rf_err.h"

const char *rf_strerror(int code)
{
    switch (code) {
#define RF_ERR_TEXT(name, value, text) case value: return text;
        RF_ERRORS(RF_ERR_TEXT)
#undef RF_ERR_TEXT
    default:
        return "unknown error";
    }
}

const char *rf_errname(int code)
{
    switch (code) {
#define RF_ERR_NAME(name, value, text) case value: return #name;
        RF_ERRORS(RF_ERR_NAME)
#undef RF_ERR_NAME
    default:
        return "RF_?";
    }
}
