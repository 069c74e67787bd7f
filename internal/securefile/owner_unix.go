//go:build !windows

package securefile

import (
	"io/fs"
	"syscall"
)

// OwnerOf returns the owner recorded in fi.
func OwnerOf(fi fs.FileInfo) (uid, gid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

// unixModes: the system keeps Unix permission bits (see OpenTo).
const unixModes = true
