//go:build !windows

package securefile

import "syscall"

// openNonBlock makes open return at once on a named pipe with no writer;
// openNoFollow makes it fail on a symbolic link.
const (
	openNonBlock = syscall.O_NONBLOCK
	openNoFollow = syscall.O_NOFOLLOW
)
