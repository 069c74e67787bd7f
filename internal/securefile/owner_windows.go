//go:build windows

package securefile

import "io/fs"

// OwnerOf reports no owner on Windows, where files have no uid/gid to hand
// on; ChownIfRoot is a no-op there.
func OwnerOf(fs.FileInfo) (uid, gid int, ok bool) { return 0, 0, false }

// unixModes: Windows keeps no Unix permission bits (see OpenTo).
const unixModes = false
