package securefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Reading a file this program did not write (a token file, the token
// cache, the helper's settings, a receipt, a backup, a docker config) must
// not block or run away: a named pipe (FIFO) blocks open and read until a
// writer comes, which may be never, and a device such as /dev/zero reads
// forever. So ReadRegular opens without blocking, checks with fstat on the
// open file (not a path looked up again) that it is a regular file, and
// reads at most limit bytes.

// Size limits for ReadRegular: ReadLimitSmall for files of a few hundred
// bytes (a token, a receipt, settings), ReadLimitLarge for files that grow
// with the logins they hold (config.json, the token cache, a backup).
const (
	ReadLimitSmall int64 = 1 << 20
	ReadLimitLarge int64 = 16 << 20
)

// ErrNotRegular is returned by ReadRegular for something other than a
// regular file (a directory, a named pipe, a device, a socket).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is returned by ReadRegular for a file larger than its limit.
var ErrTooLarge = errors.New("larger than allowed")

// ReadRegular reads the regular file at path (following symbolic links),
// at most limit bytes, without blocking on a named pipe or device. It
// returns the content and the open file's FileInfo. A missing file gives
// an error matching fs.ErrNotExist.
func ReadRegular(path string, limit int64) ([]byte, fs.FileInfo, error) {
	return readRegular(path, limit, false)
}

// ReadRegularNoFollow is ReadRegular for a file that must not be a
// symbolic link itself (one that this program names in a directory it
// wrote, such as a receipt or a backup).
func ReadRegularNoFollow(path string, limit int64) ([]byte, fs.FileInfo, error) {
	return readRegular(path, limit, true)
}

func readRegular(path string, limit int64, noFollow bool) ([]byte, fs.FileInfo, error) {
	flags := os.O_RDONLY | openNonBlock
	if noFollow {
		flags |= openNoFollow
		if openNoFollow == 0 && isLinkError(path) { // no O_NOFOLLOW (Windows): look first
			return nil, nil, fmt.Errorf("%s is a symbolic link: %w", path, ErrNotRegular)
		}
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		if noFollow && isLinkError(path) {
			return nil, nil, fmt.Errorf("%s is a symbolic link: %w", path, ErrNotRegular)
		}
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is %s: %w", path, kindOf(fi.Mode()), ErrNotRegular)
	}
	if fi.Size() > limit {
		return nil, nil, fmt.Errorf("%s holds %d bytes, more than the %d read from such a file: %w", path, fi.Size(), limit, ErrTooLarge)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(data)) > limit {
		return nil, nil, fmt.Errorf("%s holds more than the %d bytes read from such a file: %w", path, limit, ErrTooLarge)
	}
	return data, fi, nil
}

// isLinkError reports whether path is a symbolic link (after an open with
// O_NOFOLLOW failed).
func isLinkError(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

// kindOf names a file type for an error message.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file (" + m.Type().String() + ")"
}

// CheckRegular reports, as ReadRegular would, whether path (following
// links) is a regular file, without reading it: for a file another
// library will read. A missing file gives an error matching
// fs.ErrNotExist.
func CheckRegular(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is %s: %w", path, kindOf(fi.Mode()), ErrNotRegular)
	}
	return nil
}
