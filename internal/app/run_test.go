package app

import (
	"context"
	"errors"
	"github.com/ecr-credentials/ecr-credentials/internal/dockerconfig"
	"reflect"
	"testing"
)

// recSink records what deliver asks of it and fails where told.
type recSink struct {
	name                  string
	log                   *[]string
	failStage, failCommit bool
}

var errSink = errors.New("sink failed")

func (s recSink) stage(*run) error {
	*s.log = append(*s.log, "stage "+s.name)
	if s.failStage {
		return errSink
	}
	return nil
}

func (s recSink) commit(*run) error {
	*s.log = append(*s.log, "commit "+s.name)
	if s.failCommit {
		return errSink
	}
	return nil
}

func (s recSink) undo(*run) { *s.log = append(*s.log, "undo "+s.name) }

// A run is all or nothing: every sink stages before any commits, and a
// failure anywhere undoes every sink that had begun, newest first.
func TestDeliverIsOneTransaction(t *testing.T) {
	tests := []struct {
		name       string
		failStage  string
		failCommit string
		want       []string
	}{
		{name: "all succeed",
			want: []string{"stage a", "stage b", "stage c", "commit a", "commit b", "commit c"}},
		{name: "a stage fails", failStage: "b",
			want: []string{"stage a", "stage b", "undo b", "undo a"}},
		{name: "the first stage fails", failStage: "a",
			want: []string{"stage a", "undo a"}},
		{name: "a commit fails", failCommit: "b",
			want: []string{"stage a", "stage b", "stage c", "commit a", "commit b", "undo c", "undo b", "undo a"}},
		{name: "the last commit fails", failCommit: "c",
			want: []string{"stage a", "stage b", "stage c", "commit a", "commit b", "commit c", "undo c", "undo b", "undo a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			var sinks []sink
			for _, n := range []string{"a", "b", "c"} {
				sinks = append(sinks, recSink{name: n, log: &log, failStage: n == tt.failStage, failCommit: n == tt.failCommit})
			}
			err := (&run{ctx: context.Background()}).deliver(sinks)
			if wantErr := tt.failStage != "" || tt.failCommit != ""; wantErr != errors.Is(err, errSink) {
				t.Errorf("deliver error = %v, want a failure: %v", err, wantErr)
			}
			if !reflect.DeepEqual(log, tt.want) {
				t.Errorf("calls:\n got %q\nwant %q", log, tt.want)
			}
		})
	}
}

// The docker login is the last sink of every mode: it is kept for good (its
// backup dropped) only once everything else is written.
func TestDockerLoginCommitsLast(t *testing.T) {
	for name, sinks := range map[string][]sink{
		"github": githubSinks(newLoginSinks(true)),
		"plugin": pluginSinks(newLoginSinks(false), &formatFiles{}),
		"cli":    cliSinks(cliCommand{}, nil, newLoginSinks(false)),
	} {
		if s, ok := sinks[len(sinks)-1].(*loginSink); !ok || s.target != dockerconfig.DockerConfig {
			t.Errorf("%s: the last sink is %T, not the docker login", name, sinks[len(sinks)-1])
		}
		// The registry auth file's login, kept for good the same way,
		// just before it (its commit cannot fail).
		if s, ok := sinks[len(sinks)-2].(*loginSink); !ok || s.target != dockerconfig.AuthFile {
			t.Errorf("%s: the sink before the docker login is %T, not the registry auth file", name, sinks[len(sinks)-2])
		}
	}
}
