//go:build cgo && linux

package tokens

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>

// The few libcrypto 3 functions Sigil calls, looked up at run time so that neither the build
// nor the binary needs OpenSSL's headers or a link against it: a machine without
// libcrypto.so.3 signs with Go's crypto/rsa instead.
typedef struct sigil_pkey sigil_pkey;
typedef struct sigil_pkey_ctx sigil_pkey_ctx;
typedef struct sigil_md sigil_md;

static sigil_pkey *(*sigil_d2i_PrivateKey)(int, sigil_pkey **, const unsigned char **, long);
static void (*sigil_EVP_PKEY_free)(sigil_pkey *);
static sigil_pkey_ctx *(*sigil_EVP_PKEY_CTX_new)(sigil_pkey *, void *);
static void (*sigil_EVP_PKEY_CTX_free)(sigil_pkey_ctx *);
static int (*sigil_EVP_PKEY_sign_init)(sigil_pkey_ctx *);
static int (*sigil_EVP_PKEY_CTX_set_rsa_padding)(sigil_pkey_ctx *, int);
static int (*sigil_EVP_PKEY_CTX_set_signature_md)(sigil_pkey_ctx *, const sigil_md *);
static int (*sigil_EVP_PKEY_sign)(sigil_pkey_ctx *, unsigned char *, size_t *, const unsigned char *, size_t);
static const sigil_md *(*sigil_EVP_sha256)(void);
static const char *(*sigil_OpenSSL_version)(int);

// sigil_load opens libcrypto.so.3 and finds the functions; it returns the name of the first
// one missing, or NULL.
static const char *sigil_load(void) {
	void *lib = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) return "libcrypto.so.3";
#define SIGIL_SYM(name) if ((*(void **)&sigil_##name = dlsym(lib, #name)) == NULL) return #name;
	SIGIL_SYM(d2i_PrivateKey)
	SIGIL_SYM(EVP_PKEY_free)
	SIGIL_SYM(EVP_PKEY_CTX_new)
	SIGIL_SYM(EVP_PKEY_CTX_free)
	SIGIL_SYM(EVP_PKEY_sign_init)
	SIGIL_SYM(EVP_PKEY_CTX_set_rsa_padding)
	SIGIL_SYM(EVP_PKEY_CTX_set_signature_md)
	SIGIL_SYM(EVP_PKEY_sign)
	SIGIL_SYM(EVP_sha256)
	SIGIL_SYM(OpenSSL_version)
#undef SIGIL_SYM
	return NULL;
}

static const char *sigil_version(void) { return sigil_OpenSSL_version(0); }

// sigil_key decodes a PKCS #1 RSA private key (EVP_PKEY_RSA is 6).
static sigil_pkey *sigil_key(const unsigned char *der, long n) {
	return sigil_d2i_PrivateKey(6, NULL, &der, n);
}

static void sigil_key_free(sigil_pkey *k) { sigil_EVP_PKEY_free(k); }

// sigil_ctx returns a context ready to sign SHA-256 digests with k, PKCS #1 v1.5
// (RSA_PKCS1_PADDING is 1), or NULL.
static sigil_pkey_ctx *sigil_ctx(sigil_pkey *k) {
	sigil_pkey_ctx *c = sigil_EVP_PKEY_CTX_new(k, NULL);
	if (c == NULL) return NULL;
	if (sigil_EVP_PKEY_sign_init(c) != 1 || sigil_EVP_PKEY_CTX_set_rsa_padding(c, 1) <= 0 ||
			sigil_EVP_PKEY_CTX_set_signature_md(c, sigil_EVP_sha256()) <= 0) {
		sigil_EVP_PKEY_CTX_free(c);
		return NULL;
	}
	return c;
}

static void sigil_ctx_free(sigil_pkey_ctx *c) { sigil_EVP_PKEY_CTX_free(c); }

// sigil_sign signs a 32-byte digest into sig (n bytes); it returns the signature's length,
// or 0.
static size_t sigil_sign(sigil_pkey_ctx *c, const unsigned char *digest, unsigned char *sig, size_t n) {
	size_t len = n;
	if (sigil_EVP_PKEY_sign(c, sig, &len, digest, 32) != 1) return 0;
	return len;
}
*/
import "C"

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// opensslBuilt says whether this build can sign through OpenSSL.
const opensslBuilt = true

// libcrypto is loaded once per process: a shared library is process-wide by nature.
var libcrypto = sync.OnceValues(func() (string, error) {
	if missing := C.sigil_load(); missing != nil {
		return "", fmt.Errorf("tokens: OpenSSL not usable: %s not found", C.GoString(missing))
	}
	return C.GoString(C.sigil_version()), nil
})

// opensslRSA signs with one RSA key through libcrypto. A context can sign many digests but
// only one at a time, so idle contexts wait in a bounded pool; the key and its contexts are
// freed once the signer is unreachable (a rotated-out key).
type opensslRSA struct {
	c *opensslKey
}

// opensslKey is the C side of an opensslRSA, freed by its cleanup.
type opensslKey struct {
	key  *C.sigil_pkey
	idle chan *C.sigil_pkey_ctx
	size int // signature length in bytes
}

func (k *opensslKey) free() {
	for {
		select {
		case c := <-k.idle:
			C.sigil_ctx_free(c)
		default:
			C.sigil_key_free(k.key)
			return
		}
	}
}

// newOpenSSLRSA returns a signer of priv's key through libcrypto, and OpenSSL's version, or
// an error when libcrypto cannot be loaded or takes the key wrongly.
func newOpenSSLRSA(priv *rsa.PrivateKey) (*opensslRSA, string, error) {
	version, err := libcrypto()
	if err != nil {
		return nil, "", err
	}
	der := x509.MarshalPKCS1PrivateKey(priv)
	key := C.sigil_key((*C.uchar)(unsafe.Pointer(&der[0])), C.long(len(der)))
	clear(der)
	if key == nil {
		return nil, "", errors.New("tokens: OpenSSL refused the RSA key")
	}
	k := &opensslKey{key: key, idle: make(chan *C.sigil_pkey_ctx, 2*runtime.GOMAXPROCS(0)), size: priv.Size()}
	s := &opensslRSA{c: k}
	runtime.AddCleanup(s, func(k *opensslKey) { k.free() }, k)
	return s, version, nil
}

// sign returns the PKCS #1 v1.5 signature of a SHA-256 digest.
func (s *opensslRSA) sign(digest *[32]byte) ([]byte, error) {
	k := s.c
	var c *C.sigil_pkey_ctx
	select {
	case c = <-k.idle:
	default:
		if c = C.sigil_ctx(k.key); c == nil {
			return nil, errors.New("tokens: OpenSSL could not start an RSA signature")
		}
	}
	sig := make([]byte, k.size)
	n := C.sigil_sign(c, (*C.uchar)(unsafe.Pointer(&digest[0])), (*C.uchar)(unsafe.Pointer(&sig[0])), C.size_t(len(sig)))
	ok := int(n) == k.size
	if ok {
		select {
		case k.idle <- c:
			c = nil
		default:
		}
	}
	if c != nil { // one that failed, or that the full pool has no room for
		C.sigil_ctx_free(c)
	}
	runtime.KeepAlive(s)
	if !ok {
		return nil, errors.New("tokens: OpenSSL RSA signature failed")
	}
	return sig, nil
}
