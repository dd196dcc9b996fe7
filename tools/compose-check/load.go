package main

import (
	"context"
	"fmt"
	"io"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
)

// load reads the files with the options `docker compose` itself passes to compose-go (see
// docker/compose cmd/compose ProjectOptions.toProjectOptions): the process environment and the
// project directory's .env for interpolation, the first file's directory as project directory.
// Warnings the loader logs (an unset variable, an obsolete `version`) are returned, not printed.
func load(ctx context.Context, files []string) (*types.Project, []string, error) {
	warnings := &warningHook{}
	logger := logrus.StandardLogger()
	previous := logger.ReplaceHooks(logrus.LevelHooks{})
	defer logger.ReplaceHooks(previous)
	logger.AddHook(warnings)
	logger.SetOutput(io.Discard)
	options, err := cli.NewProjectOptions(files,
		cli.WithOsEnv,
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(),
		cli.WithResolvedPaths(true),
		cli.WithDiscardEnvFile,
	)
	if err != nil {
		return nil, nil, err
	}
	project, err := options.LoadProject(ctx)
	if err != nil {
		return nil, warnings.messages, err
	}
	if project.Name == "" {
		return nil, warnings.messages, fmt.Errorf("project name can't be empty")
	}
	return project, warnings.messages, nil
}

// warningHook collects what compose-go logs at warning level or above.
type warningHook struct{ messages []string }

func (h *warningHook) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (h *warningHook) Fire(entry *logrus.Entry) error {
	h.messages = append(h.messages, entry.Message)
	return nil
}
