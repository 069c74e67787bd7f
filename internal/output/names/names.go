// Package names is the one list of the formats and shells package output
// renders, for the settings that choose them (formats, shell), the CLI and
// the docs. It is a leaf apart from output so that package inputs can
// read it: output depends on ecr, which reaches inputs through awsauth.
package names

// The formats (the formats setting, `ecr-credentials print FORMAT`).
const (
	ECS              = "ecs"
	DockerConfigJSON = "dockerconfigjson"
	K8sSecret        = "k8s-secret"
	Dotenv           = "dotenv"
	Bamboo           = "bamboo"
)

// Formats lists the formats in the order they are documented and produced.
var Formats = []string{ECS, DockerConfigJSON, K8sSecret, Dotenv, Bamboo}

// The shells `env` prints for (the shell setting).
const (
	Sh         = "sh"
	Fish       = "fish"
	PowerShell = "powershell"
	Cmd        = "cmd"
)

// Shells lists the shells, default first.
var Shells = []string{Sh, Fish, PowerShell, Cmd}
