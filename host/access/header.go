package access

import (
	"errors"
	"net/http"
	"strings"
)

// Headers that carry an API key.
const (
	HeaderAuthorization = "Authorization"
	HeaderAPIKey        = "X-Api-Key"
)

// MaxCredentialLen bounds a credential. A claude-mem key is 46 bytes; the
// bound leaves room for other providers' tokens (OIDC JWTs) and keeps a
// hostile header from being hashed and looked up at any length.
const MaxCredentialLen = 4096

// Errors of Credential. Each is answered with a 401.
var (
	ErrMalformedCredential = errors.New("malformed credential")
	ErrConflictingHeaders  = errors.New("the Authorization and X-Api-Key headers carry different keys; send one")
	ErrUnsupportedScheme   = errors.New("unsupported Authorization scheme; send `Authorization: Bearer <key>` or `X-Api-Key: <key>`")
	ErrRepeatedHeader      = errors.New("the key header is repeated; send it once")
)

// Credential returns the API key a request carries, from
// `Authorization: Bearer <key>` (the scheme is case-insensitive) or
// `X-Api-Key: <key>`. It returns "" and no error when the request carries
// none. Both headers may be sent if they agree. A header that is repeated,
// empty, of another scheme, or whose key holds characters outside the
// RFC 6750 token alphabet is an error: a malformed credential is never
// mistaken for no credential.
func Credential(h http.Header) (string, error) {
	bearer, hasBearer, err := fromAuthorization(h.Values(HeaderAuthorization))
	if err != nil {
		return "", err
	}
	key, hasKey, err := fromAPIKey(h.Values(HeaderAPIKey))
	if err != nil {
		return "", err
	}
	switch {
	case hasBearer && hasKey && bearer != key:
		return "", ErrConflictingHeaders
	case hasBearer:
		return bearer, nil
	case hasKey:
		return key, nil
	}
	return "", nil
}

func fromAuthorization(values []string) (string, bool, error) {
	switch len(values) {
	case 0:
		return "", false, nil
	case 1:
	default:
		return "", false, ErrRepeatedHeader
	}
	v := strings.Trim(values[0], " \t")
	scheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		if scheme == "" {
			return "", false, ErrMalformedCredential
		}
		return "", false, ErrUnsupportedScheme
	}
	token := strings.TrimLeft(rest, " \t")
	if !validToken(token) {
		return "", false, ErrMalformedCredential
	}
	return token, true, nil
}

func fromAPIKey(values []string) (string, bool, error) {
	switch len(values) {
	case 0:
		return "", false, nil
	case 1:
	default:
		return "", false, ErrRepeatedHeader
	}
	token := strings.Trim(values[0], " \t")
	if !validToken(token) {
		return "", false, ErrMalformedCredential
	}
	return token, true, nil
}

// validToken reports whether s is an RFC 6750 b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func validToken(s string) bool {
	if s == "" || len(s) > MaxCredentialLen {
		return false
	}
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' {
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}
