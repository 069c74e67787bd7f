//go:build windows

package securefile

// Windows has no named pipes in the file system nor O_NOFOLLOW; the type
// check after open still applies.
const (
	openNonBlock = 0
	openNoFollow = 0
)
