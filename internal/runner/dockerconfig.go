package runner

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// Who picked the docker config directory a login goes to decides how far
// what it already holds is trusted (issue 21). Later steps get the
// directory as DOCKER_CONFIG, and docker runs its cli-plugins and
// credential helpers and obeys its proxies and contexts.
//
//   - A directory this program picks in the workspace (act's
//     .ecr-credentials-docker, the plugin's .docker) must be one its own
//     logins made: missing, or a real directory of this user's that holds
//     nothing but what a login writes. A checkout carrying one with
//     anything else fails the step before anything is written. (A fresh
//     name each run would be as safe, but later steps and .dockerignore
//     name these directories, and a second login step of the job writes
//     to the same one.)
//   - A directory the user names (docker-config, or DOCKER_CONFIG) is used
//     as it is, with a warning naming what docker will run or obey in it.
//   - docker's own default (~/.docker, the GitHub runner's
//     /github/home/.docker) is what docker reads anyway: it is left as is.
type Origin int

const (
	OriginDefault Origin = iota // docker's own default
	OriginChosen                // picked by this program in the workspace
	OriginNamed                 // named by the user
)

// dockerConfigOrigin tells who picked the directory of cfg's docker login
// and how to name it in a message.
func (r *Runner) dockerConfigOrigin(cfg *inputs.Config, github bool) (Origin, string) {
	if cfg.Origin[inputs.DockerConfig].Explicit() {
		return OriginNamed, cfg.Describe(inputs.DockerConfig)
	}
	if cfg.Mode == inputs.Plugin {
		return OriginChosen, inputs.DockerConfig.Spell(inputs.Plugin)
	}
	if r.dockerConfig != "" {
		return OriginNamed, "environment variable DOCKER_CONFIG"
	}
	if github && r.Layout == Shared {
		return OriginChosen, inputs.DockerConfig.Spell(inputs.GitHub)
	}
	return OriginDefault, ""
}

// checkDockerConfigDir applies the rule above to dir, before anything is
// written: an error for a directory this program picked that it did not
// make, a warning for one the user named that holds what docker runs or
// obeys.
func checkDockerConfigDir(dir string, origin Origin, subject string, warn func(string)) error {
	if origin == OriginDefault || dir == "" {
		return nil
	}
	owners := []int{os.Geteuid()}
	if uid, _, ok := securefile.Owner(filepath.Dir(dir)); ok && os.Geteuid() == 0 {
		owners = append(owners, uid) // as root, new directories go to the parent's owner
	}
	c, err := dockerconfig.Inspect(dir, owners...)
	if err != nil {
		return problem.Wrap(problem.DockerConfig, err, "cannot inspect the docker config directory", "")
	}
	if origin == OriginNamed {
		if len(c.Obeyed) > 0 {
			warn("The docker config directory " + dir + " (" + subject + ") already holds what docker in later steps will run or obey along with this login: " +
				strings.Join(c.Obeyed, "; ") + ". Name a fresh directory if that is not meant.")
		}
		return nil
	}
	if c.Ours() {
		return nil
	}
	var why []string
	if c.Problem != "" {
		why = append(why, c.Problem)
	}
	why = append(why, c.Obeyed...)
	if len(c.Foreign) > 0 {
		why = append(why, "entries a login of ours does not write: "+strings.Join(c.Foreign, ", "))
	}
	return &problem.Problem{Code: problem.DockerConfig, Subject: subject,
		What: "the docker config directory " + dir + " (used when this is not set) already exists, and no login of ours made it (" +
			strings.Join(why, "; ") + "); later steps would get it as DOCKER_CONFIG, and docker runs or obeys what it holds",
		Fix: "Remove " + dir + " (a checkout must not carry it), or set " + subject + " to a directory to use as it is (the step then warns about what docker will run or obey there)."}
}
