package dockerconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// A docker config directory is more than credentials: docker runs the
// programs in its cli-plugins/ (docker-buildx, docker-compose, ...) and the
// credential helpers config.json names (credsStore, credHelpers), sends
// builds and containers through its proxies, and talks to the daemon its
// currentContext names (contexts/). A directory that came with a checkout
// and is handed to later steps as DOCKER_CONFIG would so let the
// repository choose what they run. Inspect tells what a directory already
// holds before a login writes to it.

// Contents is what Inspect found in a docker config directory.
type Contents struct {
	// Exists is false when there is nothing at the path (nothing else is
	// then set).
	Exists bool
	// Problem, if set, says why the path is not a directory this user
	// made: a symbolic link, not a directory, writable by group or others,
	// owned by another user.
	Problem string
	// Obeyed lists, one short phrase each, what docker will run or obey:
	// cli-plugins entries, credsStore, credHelpers (other than this
	// program's refresh helpers), proxies, currentContext, contexts,
	// cliPluginsExtraDirs, a config.json that cannot be read as one.
	Obeyed []string
	// Foreign lists the entries that a login of this program does not
	// write (names in the directory, keys of config.json other than
	// output formats and detachKeys), Obeyed or not.
	Foreign []string
}

// Ours reports whether the directory holds nothing but what a login of
// this program writes, in a directory it made: such a directory may be
// used again whatever its origin, as docker obeys nothing in it but
// credentials.
func (c Contents) Ours() bool {
	return !c.Exists || c.Problem == "" && len(c.Obeyed) == 0 && len(c.Foreign) == 0
}

// ownNames are the entries a login of this program leaves in a docker
// config directory: the config files, their locks and temporary files,
// receipts, backups and the refresh directory.
var ownNames = regexp.MustCompile(`^(` +
	`(config|auth)\.json(\.lock)?` +
	`|\.(config|auth)\.json\.tmp-[0-9]+` +
	`|\.ecr-credentials-receipt-[0-9a-f]{16}\.json` +
	`|\.(config|auth)\.json\.ecr-credentials-[0-9a-f]{16}\.bak` +
	`|` + regexp.QuoteMeta(RefreshDirName) + `)$`)

// Inspect looks at the docker config directory dir without following a
// link at dir itself. owners are the uids that may own a directory this
// program made (the user it runs as and, as root, the owner of the parent
// it hands new directories to). Only a failure to look is an error.
func Inspect(dir string, owners ...int) (Contents, error) {
	var c Contents
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("inspect docker config directory %s: %w", dir, err)
	}
	c.Exists = true
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		c.Problem = "it is a symbolic link"
		return c, nil
	case !fi.IsDir():
		c.Problem = "it is not a directory"
		return c, nil
	case securefile.OpenTo(fi, 0o022) != 0:
		c.Problem = fmt.Sprintf("it has mode %04o, writable by group or others", fi.Mode().Perm())
	}
	if uid, _, ok := securefile.OwnerOf(fi); ok && c.Problem == "" && !slices.Contains(owners, uid) {
		c.Problem = fmt.Sprintf("it belongs to uid %d", uid)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return c, fmt.Errorf("inspect docker config directory %s: %w", dir, err)
	}
	for _, en := range entries {
		name := en.Name()
		switch {
		case name == "cli-plugins":
			plugins, _ := os.ReadDir(filepath.Join(dir, name))
			for _, p := range plugins {
				c.Obeyed = append(c.Obeyed, "cli-plugins/"+p.Name()+" (docker runs it)")
			}
			if len(plugins) == 0 {
				c.Foreign = append(c.Foreign, name+"/")
			}
			continue
		case name == "contexts":
			c.Obeyed = append(c.Obeyed, "contexts/ (docker endpoints a context may name)")
			continue
		case name == ConfigFileName:
			c.inspectConfig(filepath.Join(dir, name))
		}
		if !ownNames.MatchString(name) {
			c.Foreign = append(c.Foreign, name)
		}
	}
	return c, nil
}

// inspectConfig adds what config.json makes docker run or obey.
func (c *Contents) inspectConfig(path string) {
	data, _, err := securefile.ReadRegular(path, securefile.ReadLimitLarge)
	if err != nil {
		c.Obeyed = append(c.Obeyed, ConfigFileName+" that cannot be read ("+err.Error()+")")
		return
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		c.Obeyed = append(c.Obeyed, ConfigFileName+" that is not a JSON object")
		return
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := doc[k]
		switch k {
		case "auths":
			continue // credentials only: what a login writes
		case "psFormat", "imagesFormat", "networksFormat", "pluginsFormat", "volumesFormat", "statsFormat",
			"serviceInspectFormat", "servicesFormat", "tasksFormat", "secretFormat", "configFormat", "nodesFormat",
			"detachKeys", "experimental":
			continue // how docker prints, and keys to detach: nothing it runs or sends
		case "credsStore":
			var s string
			_ = json.Unmarshal(v, &s)
			c.Obeyed = append(c.Obeyed, fmt.Sprintf("credsStore %q (docker runs %s%s)", s, HelperPrefix, s))
		case "credHelpers":
			var m map[string]string
			_ = json.Unmarshal(v, &m)
			var hosts []string
			for h, name := range m {
				if !isRefreshHelperName(name) {
					hosts = append(hosts, fmt.Sprintf("%s: %s%s", h, HelperPrefix, name))
				}
			}
			sort.Strings(hosts)
			if len(hosts) > 0 || m == nil {
				c.Obeyed = append(c.Obeyed, "credHelpers ("+strings.Join(hosts, ", ")+"; docker runs them)")
			}
			if len(hosts) == 0 && m != nil {
				continue // only this program's refresh helpers
			}
		case "proxies":
			c.Obeyed = append(c.Obeyed, "proxies (docker sends builds and containers through them)")
		case "currentContext":
			var s string
			_ = json.Unmarshal(v, &s)
			c.Obeyed = append(c.Obeyed, fmt.Sprintf("currentContext %q (the docker endpoint docker talks to)", s))
		case "cliPluginsExtraDirs":
			c.Obeyed = append(c.Obeyed, "cliPluginsExtraDirs (more directories of plugins docker runs)")
		}
		c.Foreign = append(c.Foreign, ConfigFileName+" "+k)
	}
}
