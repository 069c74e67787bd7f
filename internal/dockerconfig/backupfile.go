package dockerconfig

import (
	"fmt"
	"os"

	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// readPrivateFile reads a file Login wrote for this user alone (the
// backup), with the checks a saved receipt gets: a regular file, not a
// link, read without blocking and within a size cap
// (securefile.ReadRegularNoFollow), owned by this user and readable by no
// one else. An error wraps fs.ErrNotExist when the file is missing.
func readPrivateFile(path, what string) ([]byte, error) {
	data, fi, err := securefile.ReadRegularNoFollow(path, securefile.ReadLimitLarge)
	if err != nil {
		return nil, err
	}
	if securefile.OpenTo(fi, 0o077) != 0 {
		return nil, fmt.Errorf("%s %s has mode %04o (others may have written it); not trusted", what, path, fi.Mode().Perm())
	}
	if uid, _, ok := securefile.OwnerOf(fi); ok && uid != os.Geteuid() {
		return nil, fmt.Errorf("%s %s belongs to uid %d, not to this user (%d); not trusted", what, path, uid, os.Geteuid())
	}
	return data, nil
}
