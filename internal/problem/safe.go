package problem

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os/exec"
	"strconv"
	"strings"
)

// Safe stands for an error whose text may hold a secret (a library error
// that quotes what it parsed or received: a credential_process's whole
// output, a config file line, a response body). Its text is only a safe
// class of the failure (a timeout, a network error, an AWS error code, an
// exit status...), never the library's words; errors.Is and errors.As still
// reach the cause, so callers can tell a timeout from a refusal.
//
// Every error we wrap from a library that may carry a secret goes through
// Safe (or is mapped to our own message) before it can reach a Problem.
func Safe(err error) error {
	if err == nil {
		return nil
	}
	var s *safeError
	if errors.As(err, &s) {
		return err
	}
	return &safeError{class: Class(err), cause: err}
}

type safeError struct {
	class string
	cause error
}

func (e *safeError) Error() string { return e.class }
func (e *safeError) Unwrap() error { return e.cause }

// Class names the kind of failure err is, in words that cannot hold a
// secret.
func Class(err error) string {
	var (
		exitErr  *exec.ExitError
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		dnsErr   *net.DNSError
		opErr    *net.OpError
		netErr   net.Error
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		apiError interface{ ErrorCode() string }
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.As(err, &apiError) && safeCode(apiError.ErrorCode()) != "":
		return "AWS error " + safeCode(apiError.ErrorCode())
	case errors.As(err, &exitErr):
		return "the command exited with status " + strconv.Itoa(exitErr.ExitCode())
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return "a command or file it needs does not exist"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.As(err, &syntax), errors.As(err, &typeErr):
		return "its output is not the JSON document expected"
	case errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &invalid):
		return "TLS certificate not trusted"
	case errors.As(err, &dnsErr):
		return "host name not found"
	case errors.As(err, &opErr):
		// Operation, addresses and the system's words: nothing received.
		return "network error: " + opErr.Error()
	case errors.As(err, &netErr):
		return "network error"
	}
	return Withheld
}

// Withheld is the class of an error Class cannot name more precisely.
const Withheld = "details withheld, as the library's message may quote secrets"

// safeCode keeps an error code that looks like one (AccessDenied,
// InvalidClientTokenId), and nothing else.
func safeCode(code string) string {
	if code == "" || len(code) > 64 {
		return ""
	}
	if strings.IndexFunc(code, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	}) >= 0 {
		return ""
	}
	return code
}
