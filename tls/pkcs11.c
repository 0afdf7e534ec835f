/* SPDX-License-Identifier: Apache-2.0 */
/* A PKCS#11 token's key as a signer (tls/pkcs11.h). Written against the
 * PKCS#11 2.40 API (the pkcs11.h p11-kit installs); the module is loaded
 * with dlopen(). */
#define _POSIX_C_SOURCE 200809L

#include "tls/pkcs11.h"

#include <dlfcn.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "tls/bundle.h"
#include "tls/tls_compat.h"

#define LABEL_MAX 128
#define ID_MAX 64
#define PIN_MAX 128

typedef struct p11_impl {
    void *dl;
    CK_FUNCTION_LIST_PTR f;
    CK_SESSION_HANDLE session; /* CK_INVALID_HANDLE: none open */
    CK_OBJECT_HANDLE key;
    uint8_t pub[65];
    /* what names the token and the key (from the URI) */
    char token[33], serial[17], manufacturer[33], model[17];
    char label[LABEL_MAX];
    uint8_t id[ID_MAX];
    size_t id_len;
    char pin[PIN_MAX]; /* for logging in again after the token came back; wiped */
    bool has_pin, has_label, has_id;
} p11_impl;

/* ---- the module, started once per process for all its keys ---------------- */

static struct {
    CK_FUNCTION_LIST_PTR f;
    unsigned users;
    bool ours; /* we called C_Initialize (so C_Finalize is ours too) */
} modules[8];

static int module_start(CK_FUNCTION_LIST_PTR f)
{
    CK_C_INITIALIZE_ARGS args;
    size_t i, free_at = sizeof modules / sizeof modules[0];
    CK_RV rv;

    for (i = 0; i < sizeof modules / sizeof modules[0]; i++) {
        if (modules[i].f == f) {
            modules[i].users++;
            return MQTLS_OK;
        }
        if (modules[i].f == NULL && free_at == sizeof modules / sizeof modules[0])
            free_at = i;
    }
    if (free_at == sizeof modules / sizeof modules[0])
        return MQTLS_ERR_KEY_MODULE;
    memset(&args, 0, sizeof args);
    args.flags = CKF_OS_LOCKING_OK; /* threads may share the module */
    rv = f->C_Initialize(&args);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
        return MQTLS_ERR_KEY_MODULE;
    modules[free_at].f = f;
    modules[free_at].users = 1;
    modules[free_at].ours = rv == CKR_OK;
    return MQTLS_OK;
}

static void module_stop(CK_FUNCTION_LIST_PTR f)
{
    size_t i;
    for (i = 0; i < sizeof modules / sizeof modules[0]; i++)
        if (modules[i].f == f && --modules[i].users == 0) {
            if (modules[i].ours)
                (void)f->C_Finalize(NULL);
            modules[i].f = NULL;
        }
}

/* ---- the URI (RFC 7512) ----------------------------------------------------- */

static int hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes v[0..n) into out (cap bytes); the length, or -1. */
static long decode(const char *v, size_t n, uint8_t *out, size_t cap)
{
    size_t i, len = 0;
    for (i = 0; i < n; i++) {
        int c = (unsigned char)v[i];
        if (c == '%') {
            if (i + 2 >= n || hex(v[i + 1]) < 0 || hex(v[i + 2]) < 0)
                return -1;
            c = hex(v[i + 1]) * 16 + hex(v[i + 2]);
            i += 2;
        }
        if (len == cap)
            return -1;
        out[len++] = (uint8_t)c;
    }
    return (long)len;
}

/* A decoded text attribute into out (NUL-terminated). */
static int text_attr(const char *v, size_t n, char *out, size_t cap)
{
    long len = decode(v, n, (uint8_t *)out, cap - 1);
    if (len < 0 || memchr(out, 0, (size_t)len) != NULL)
        return -1;
    out[len] = '\0';
    return 0;
}

static int parse_uri(p11_impl *k, const char *uri, char *module, size_t module_cap, bool *has_module)
{
    const char *p = uri + 7, *q;
    bool in_query = false;

    if (strncmp(uri, "pkcs11:", 7) != 0)
        return MQTLS_ERR_INVALID_ARG;
    *has_module = false;
    while (*p != '\0') {
        const char *eq, *end;
        size_t name_len;
        q = p;
        while (*q != '\0' && *q != (in_query ? '&' : ';') && !(!in_query && *q == '?'))
            q++;
        end = q;
        eq = memchr(p, '=', (size_t)(end - p));
        if (eq == NULL) {
            if (end != p)
                return MQTLS_ERR_INVALID_ARG;
        } else {
            const char *v = eq + 1;
            const size_t vn = (size_t)(end - v);
            int bad = 0;
            name_len = (size_t)(eq - p);
#define IS(s) (name_len == sizeof(s) - 1 && memcmp(p, s, name_len) == 0)
            if (!in_query && IS("token"))
                bad = text_attr(v, vn, k->token, sizeof k->token);
            else if (!in_query && IS("serial"))
                bad = text_attr(v, vn, k->serial, sizeof k->serial);
            else if (!in_query && IS("manufacturer"))
                bad = text_attr(v, vn, k->manufacturer, sizeof k->manufacturer);
            else if (!in_query && IS("model"))
                bad = text_attr(v, vn, k->model, sizeof k->model);
            else if (!in_query && IS("object")) {
                bad = text_attr(v, vn, k->label, sizeof k->label);
                k->has_label = bad == 0;
            } else if (!in_query && IS("id")) {
                const long n = decode(v, vn, k->id, sizeof k->id);
                bad = n <= 0;
                k->id_len = n > 0 ? (size_t)n : 0;
                k->has_id = !bad;
            } else if (!in_query && IS("type")) {
                bad = !(vn == 7 && memcmp(v, "private", 7) == 0);
            } else if (in_query && IS("module-path")) {
                bad = text_attr(v, vn, module, module_cap);
                *has_module = bad == 0;
            } else if (in_query && IS("pin-value")) {
                bad = text_attr(v, vn, k->pin, sizeof k->pin);
                k->has_pin = bad == 0;
            } else {
                bad = 1; /* an attribute we cannot honour: not silently ignored */
            }
#undef IS
            if (bad)
                return MQTLS_ERR_INVALID_ARG;
        }
        if (*end == '?')
            in_query = true;
        p = *end != '\0' ? end + 1 : end;
    }
    return k->has_label || k->has_id ? MQTLS_OK : MQTLS_ERR_INVALID_ARG;
}

/* ---- the token, the session, the key ---------------------------------------- */

/* A blank-padded PKCS#11 text field equals want (or want is empty). */
static bool field_is(const CK_UTF8CHAR *field, size_t n, const char *want)
{
    size_t w = strlen(want), i;
    if (w == 0)
        return true;
    if (w > n || memcmp(field, want, w) != 0)
        return false;
    for (i = w; i < n; i++)
        if (field[i] != ' ')
            return false;
    return true;
}

static void close_session(p11_impl *k)
{
    if (k->session != CK_INVALID_HANDLE)
        (void)k->f->C_CloseSession(k->session);
    k->session = CK_INVALID_HANDLE;
    k->key = CK_INVALID_HANDLE;
}

/* Finds one object of class cls named as the URI names the key. */
static CK_OBJECT_HANDLE find(p11_impl *k, CK_OBJECT_CLASS cls)
{
    CK_ATTRIBUTE t[3];
    CK_ULONG n = 0, found = 0;
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

    t[n].type = CKA_CLASS;
    t[n].pValue = &cls;
    t[n++].ulValueLen = sizeof cls;
    if (k->has_label) {
        t[n].type = CKA_LABEL;
        t[n].pValue = k->label;
        t[n++].ulValueLen = strlen(k->label);
    }
    if (k->has_id) {
        t[n].type = CKA_ID;
        t[n].pValue = k->id;
        t[n++].ulValueLen = k->id_len;
    }
    if (k->f->C_FindObjectsInit(k->session, t, n) != CKR_OK)
        return CK_INVALID_HANDLE;
    if (k->f->C_FindObjects(k->session, &h, 1, &found) != CKR_OK || found != 1)
        h = CK_INVALID_HANDLE;
    (void)k->f->C_FindObjectsFinal(k->session);
    return h;
}

/* The key's public point, from the public key object beside it. */
static int read_public(p11_impl *k)
{
    static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    CK_KEY_TYPE type = 0;
    uint8_t params[16], point[80];
    CK_ATTRIBUTE a[2] = {{CKA_KEY_TYPE, &type, sizeof type}, {CKA_EC_PARAMS, params, sizeof params}};
    CK_ATTRIBUTE q = {CKA_EC_POINT, point, sizeof point};
    CK_OBJECT_HANDLE pub;

    if (k->f->C_GetAttributeValue(k->session, k->key, a, 2) != CKR_OK || type != CKK_EC ||
        a[1].ulValueLen != sizeof p256 || memcmp(params, p256, sizeof p256) != 0)
        return MQTLS_ERR_KEY_UNSUPPORTED;
    pub = find(k, CKO_PUBLIC_KEY);
    if (pub == CK_INVALID_HANDLE || k->f->C_GetAttributeValue(k->session, pub, &q, 1) != CKR_OK)
        return MQTLS_ERR_KEY_NOT_FOUND; /* the public half must be in the token too */
    /* CKA_EC_POINT is DER (an OCTET STRING around 0x04 X Y); some tokens
     * give the point bare. */
    if (q.ulValueLen == 67 && point[0] == 0x04 && point[1] == 65 && point[2] == 0x04)
        memcpy(k->pub, point + 2, 65);
    else if (q.ulValueLen == 65 && point[0] == 0x04)
        memcpy(k->pub, point, 65);
    else
        return MQTLS_ERR_KEY_UNSUPPORTED;
    return MQTLS_OK;
}

/* Finds the token, opens a session, logs in, and (with need_key) finds
 * the key. */
static int connect_session(p11_impl *k, bool need_key)
{
    CK_SLOT_ID slots[64];
    CK_ULONG n = sizeof slots / sizeof slots[0], i;
    CK_RV rv;
    int ret = MQTLS_ERR_KEY_NOT_FOUND;

    close_session(k);
    if (k->f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
        return MQTLS_ERR_KEY_TOKEN_GONE;
    for (i = 0; i < n; i++) {
        CK_TOKEN_INFO info;
        if (k->f->C_GetTokenInfo(slots[i], &info) != CKR_OK ||
            !field_is(info.label, sizeof info.label, k->token) ||
            !field_is(info.serialNumber, sizeof info.serialNumber, k->serial) ||
            !field_is(info.manufacturerID, sizeof info.manufacturerID, k->manufacturer) ||
            !field_is(info.model, sizeof info.model, k->model))
            continue;
        /* Read-write only to make a key: signing needs no more. */
        if (k->f->C_OpenSession(slots[i], CKF_SERIAL_SESSION | (need_key ? 0 : CKF_RW_SESSION), NULL,
                                NULL, &k->session) != CKR_OK) {
            k->session = CK_INVALID_HANDLE;
            return MQTLS_ERR_KEY_TOKEN_GONE;
        }
        if (k->has_pin) {
            rv = k->f->C_Login(k->session, CKU_USER, (CK_UTF8CHAR_PTR)k->pin, strlen(k->pin));
            if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
                close_session(k);
                return rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE ||
                               rv == CKR_PIN_LOCKED || rv == CKR_PIN_EXPIRED
                           ? MQTLS_ERR_KEY_PIN
                           : MQTLS_ERR_KEY_TOKEN_GONE;
            }
        }
        if (!need_key)
            return MQTLS_OK;
        k->key = find(k, CKO_PRIVATE_KEY);
        ret = k->key == CK_INVALID_HANDLE ? MQTLS_ERR_KEY_NOT_FOUND : read_public(k);
        if (ret != MQTLS_OK)
            close_session(k);
        return ret;
    }
    return ret;
}

static int connect_token(p11_impl *k)
{
    return connect_session(k, true);
}

/* ---- the signer ----------------------------------------------------------- */

/* One DER INTEGER of the 32-byte big-endian v at out; its length. */
static size_t der_int(const uint8_t *v, uint8_t *out)
{
    size_t skip = 0, n;
    while (skip < 31 && v[skip] == 0)
        skip++;
    n = 32 - skip;
    out[0] = 0x02;
    if (v[skip] & 0x80) {
        out[1] = (uint8_t)(n + 1);
        out[2] = 0;
        memcpy(out + 3, v + skip, n);
        return n + 3;
    }
    out[1] = (uint8_t)n;
    memcpy(out + 2, v + skip, n);
    return n + 2;
}

static bool session_lost(CK_RV rv)
{
    return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
           rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_ERROR ||
           rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID ||
           rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_TOKEN_NOT_RECOGNIZED;
}

static int p11_sign(void *ctx, const uint8_t *hash, size_t hash_len, uint8_t *sig, size_t cap,
                    size_t *sig_len)
{
    mqtls_pkcs11_key *pk = ctx;
    p11_impl *k = pk != NULL ? pk->impl_ : NULL;
    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    uint8_t raw[64], der[MQTLS_SIGNER_MAX_SIG], digest[64];
    CK_ULONG raw_len = sizeof raw;
    CK_RV rv = CKR_SESSION_HANDLE_INVALID;
    size_t n;
    int attempt;

    if (k == NULL || hash == NULL || sig == NULL || sig_len == NULL || hash_len > sizeof digest)
        return MQTLS_ERR_INVALID_ARG;
    memcpy(digest, hash, hash_len); /* C_Sign takes a non-const pointer */
    for (attempt = 0; attempt < 2; attempt++) {
        if (k->session == CK_INVALID_HANDLE) {
            const int ret = connect_token(k);
            if (ret != MQTLS_OK)
                return ret == MQTLS_ERR_KEY_NOT_FOUND && attempt > 0 ? MQTLS_ERR_KEY_TOKEN_GONE : ret;
        }
        raw_len = sizeof raw;
        rv = k->f->C_SignInit(k->session, &mech, k->key);
        if (rv == CKR_OK)
            rv = k->f->C_Sign(k->session, digest, hash_len, raw, &raw_len);
        if (rv == CKR_OK || !session_lost(rv))
            break;
        close_session(k); /* the token went away: look for it once more */
    }
    if (rv != CKR_OK)
        return session_lost(rv) ? MQTLS_ERR_KEY_TOKEN_GONE : MQTLS_ERR_KEY_SIGN;
    if (raw_len != 64)
        return MQTLS_ERR_KEY_SIGN;
    /* r || s, as PKCS#11 gives ECDSA, into DER's SEQUENCE { r, s }. */
    n = der_int(raw, der + 2);
    n += der_int(raw + 32, der + 2 + n);
    der[0] = 0x30;
    der[1] = (uint8_t)n;
    n += 2;
    if (n > cap)
        return MQTLS_ERR_BUFFER_TOO_SMALL;
    memcpy(sig, der, n);
    *sig_len = n;
    return MQTLS_OK;
}

static int p11_public_key(void *ctx, uint8_t pub[65])
{
    mqtls_pkcs11_key *pk = ctx;
    if (pk == NULL || pk->impl_ == NULL)
        return MQTLS_ERR_INVALID_ARG;
    memcpy(pub, ((p11_impl *)pk->impl_)->pub, 65);
    return MQTLS_OK;
}

/* ---- the API ---------------------------------------------------------------- */

void mqtls_pkcs11_init(mqtls_pkcs11_key *k)
{
    if (k != NULL)
        k->impl_ = NULL;
}

void mqtls_pkcs11_free(mqtls_pkcs11_key *pk)
{
    p11_impl *k;
    if (pk == NULL || pk->impl_ == NULL)
        return;
    k = pk->impl_;
    if (k->f != NULL) {
        if (k->session != CK_INVALID_HANDLE && k->has_pin)
            (void)k->f->C_Logout(k->session);
        close_session(k);
        module_stop(k->f);
    }
    if (k->dl != NULL)
        dlclose(k->dl);
    mbedtls_platform_zeroize(k, sizeof *k); /* the PIN */
    mbedtls_free(k);
    pk->impl_ = NULL;
}

/* The key pair inside the token k's session is on: private sensitive,
 * never extractable; both labelled and identified as the URI says. */
static int generate_pair(p11_impl *k)
{
    static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    uint8_t params[sizeof p256];
    CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE pub[6], prv[8];
    CK_ULONG np = 0, nv = 0;
    CK_OBJECT_HANDLE hp, hv;

    memcpy(params, p256, sizeof params);
#define ADD(t, n, type_, p_, len_) (t[n].type = (type_), t[n].pValue = (p_), t[n++].ulValueLen = (len_))
    ADD(pub, np, CKA_TOKEN, &yes, sizeof yes);
    ADD(pub, np, CKA_VERIFY, &yes, sizeof yes);
    ADD(pub, np, CKA_EC_PARAMS, params, sizeof params);
    ADD(prv, nv, CKA_TOKEN, &yes, sizeof yes);
    ADD(prv, nv, CKA_PRIVATE, &yes, sizeof yes);
    ADD(prv, nv, CKA_SIGN, &yes, sizeof yes);
    ADD(prv, nv, CKA_SENSITIVE, &yes, sizeof yes);
    ADD(prv, nv, CKA_EXTRACTABLE, &no, sizeof no);
    if (k->has_label) {
        ADD(pub, np, CKA_LABEL, k->label, strlen(k->label));
        ADD(prv, nv, CKA_LABEL, k->label, strlen(k->label));
    }
    if (k->has_id) {
        ADD(pub, np, CKA_ID, k->id, k->id_len);
        ADD(prv, nv, CKA_ID, k->id, k->id_len);
    }
#undef ADD
    return k->f->C_GenerateKeyPair(k->session, &mech, pub, np, prv, nv, &hp, &hv) == CKR_OK
               ? MQTLS_OK
               : MQTLS_ERR_KEY_SIGN;
}

static int open_or_generate(mqtls_pkcs11_key *pk, const char *uri, const char *module_path,
                            const char *pin, bool generate);

int mqtls_pkcs11_open(mqtls_pkcs11_key *pk, const char *uri, const char *module_path,
                      const char *pin)
{
    return open_or_generate(pk, uri, module_path, pin, false);
}

int mqtls_pkcs11_generate(mqtls_pkcs11_key *pk, const char *uri, const char *module_path,
                          const char *pin)
{
    return open_or_generate(pk, uri, module_path, pin, true);
}

static int open_or_generate(mqtls_pkcs11_key *pk, const char *uri, const char *module_path,
                            const char *pin, bool generate)
{
    char module[256];
    bool has_module = false;
    CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR) = NULL;
    p11_impl *k;
    int ret;

    if (pk == NULL || uri == NULL)
        return MQTLS_ERR_INVALID_ARG;
    mqtls_pkcs11_free(pk);
    k = mbedtls_calloc(1, sizeof *k);
    if (k == NULL)
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    k->session = CK_INVALID_HANDLE;
    k->key = CK_INVALID_HANDLE;
    pk->impl_ = k;
    ret = parse_uri(k, uri, module, sizeof module, &has_module);
    if (ret == MQTLS_OK && pin != NULL) {
        ret = strlen(pin) < sizeof k->pin ? MQTLS_OK : MQTLS_ERR_INVALID_ARG;
        if (ret == MQTLS_OK) {
            memcpy(k->pin, pin, strlen(pin) + 1);
            k->has_pin = true;
        }
    }
    if (ret == MQTLS_OK && module_path == NULL && !has_module)
        ret = MQTLS_ERR_INVALID_ARG; /* no module named anywhere */
    if (ret == MQTLS_OK) {
        k->dl = dlopen(module_path != NULL ? module_path : module, RTLD_NOW | RTLD_LOCAL);
        /* ISO C forbids converting a void * to a function pointer; POSIX
         * requires dlsym's result to be one: copied, not cast. */
        if (k->dl != NULL) {
            void *sym = dlsym(k->dl, "C_GetFunctionList");
            memcpy(&get_list, &sym, sizeof get_list);
        }
        if (k->dl == NULL || get_list == NULL || get_list(&k->f) != CKR_OK || k->f == NULL) {
            k->f = NULL;
            ret = MQTLS_ERR_KEY_MODULE;
        } else if (module_start(k->f) != MQTLS_OK) {
            k->f = NULL;
            ret = MQTLS_ERR_KEY_MODULE;
        }
    }
    if (ret == MQTLS_OK && generate) {
        /* The token must be there and the name free: then make the key. */
        ret = connect_session(k, false);
        if (ret == MQTLS_OK && find(k, CKO_PRIVATE_KEY) != CK_INVALID_HANDLE)
            ret = MQTLS_ERR_INVALID_ARG; /* a key is already there under that name */
        if (ret == MQTLS_OK)
            ret = generate_pair(k);
    }
    if (ret == MQTLS_OK)
        ret = connect_token(k);
    if (ret != MQTLS_OK)
        mqtls_pkcs11_free(pk);
    return ret;
}

int mqtls_pkcs11_signer(mqtls_pkcs11_key *k, mqtls_signer *out)
{
    if (k == NULL || k->impl_ == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    out->ctx = k;
    out->public_key = p11_public_key;
    out->sign = p11_sign;
    return MQTLS_OK;
}

int mqtls_pkcs11_key_flags(mqtls_pkcs11_key *pk, bool *sensitive, bool *extractable)
{
    p11_impl *k = pk != NULL ? pk->impl_ : NULL;
    CK_BBOOL s = CK_FALSE, e = CK_TRUE;
    CK_ATTRIBUTE a[2] = {{CKA_SENSITIVE, &s, sizeof s}, {CKA_EXTRACTABLE, &e, sizeof e}};

    if (k == NULL || sensitive == NULL || extractable == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (k->session == CK_INVALID_HANDLE && connect_token(k) != MQTLS_OK)
        return MQTLS_ERR_KEY_TOKEN_GONE;
    if (k->f->C_GetAttributeValue(k->session, k->key, a, 2) != CKR_OK)
        return MQTLS_ERR_KEY_TOKEN_GONE;
    *sensitive = s == CK_TRUE;
    *extractable = e == CK_TRUE;
    return MQTLS_OK;
}

/* ---- the keyring ------------------------------------------------------------ */

void mqtls_pkcs11_keyring_init(mqtls_pkcs11_keyring *r, const char *module_path, const char *pin)
{
    if (r == NULL)
        return;
    memset(r, 0, sizeof *r);
    r->module_path = module_path;
    r->pin = pin;
    mqtls_pkcs11_init(&r->key[0]);
    mqtls_pkcs11_init(&r->key[1]);
}

/* The key ref names, opened (reusing one already open). */
static int keyring_key(mqtls_pkcs11_keyring *r, const char *ref, mqtls_pkcs11_key **out)
{
    unsigned i;
    int ret;

    if (strlen(ref) >= sizeof r->uri[0])
        return MQTLS_ERR_INVALID_ARG;
    for (i = 0; i < 2; i++)
        if (r->key[i].impl_ != NULL && strcmp(r->uri[i], ref) == 0) {
            *out = &r->key[i];
            return MQTLS_OK;
        }
    i = r->next;
    r->next ^= 1u;
    r->uri[i][0] = '\0';
    ret = mqtls_pkcs11_open(&r->key[i], ref, r->module_path, r->pin);
    if (ret != MQTLS_OK)
        return ret;
    memcpy(r->uri[i], ref, strlen(ref) + 1);
    *out = &r->key[i];
    return MQTLS_OK;
}

/* The certificate's public point against the token key's. */
static int keyring_check(void *ctx, const char *ref, const uint8_t *cert, size_t cert_len)
{
    mqtls_pkcs11_key *k;
    int ret = keyring_key(ctx, ref, &k);
    return ret == MQTLS_OK ? mqtls_bundle_cert_has_point(cert, cert_len, ((p11_impl *)k->impl_)->pub)
                           : ret;
}

static int keyring_apply(void *ctx, const char *ref, const uint8_t *cert, size_t cert_len,
                         mqtls_tls_config *cfg)
{
    mqtls_pkcs11_key *k;
    mqtls_signer s;
    int ret = keyring_key(ctx, ref, &k);
    if (ret == MQTLS_OK)
        ret = mqtls_pkcs11_signer(k, &s);
    return ret == MQTLS_OK ? mqtls_tls_config_set_identity_signer(cfg, cert, cert_len, &s) : ret;
}

int mqtls_pkcs11_keyring_keys(mqtls_pkcs11_keyring *r, mqtls_identity_keys *out)
{
    if (r == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    out->ctx = r;
    out->check = keyring_check;
    out->apply = keyring_apply;
    return MQTLS_OK;
}

void mqtls_pkcs11_keyring_free(mqtls_pkcs11_keyring *r)
{
    if (r == NULL)
        return;
    mqtls_pkcs11_free(&r->key[0]);
    mqtls_pkcs11_free(&r->key[1]);
    r->uri[0][0] = r->uri[1][0] = '\0';
}
