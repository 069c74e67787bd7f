package inputs

// Plugin CIs as PluginCI names them.
const (
	Woodpecker = "Woodpecker"
	Drone      = "Drone"
)

// PluginCI names the CI that runs a plugin step: Woodpecker, Drone or ""
// when neither is recognised. Woodpecker is checked first: for Drone
// plugins it also sets Drone's variables (DRONE_BUILD_NUMBER is a copy of
// CI_PIPELINE_NUMBER, DRONE_REPO of CI_REPO, ...), so a DRONE_* variable
// does not tell the two apart.
func PluginCI(getenv func(string) string) string {
	switch {
	case getenv("CI") == "woodpecker" || getenv("CI_PIPELINE_NUMBER") != "":
		return Woodpecker
	case getenv("DRONE") == "true" || getenv("DRONE_BUILD_NUMBER") != "":
		return Drone
	}
	return ""
}
