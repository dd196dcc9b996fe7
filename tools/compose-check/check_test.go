package main

import (
	"context"
	"os"
	"strings"
	"testing"
)

// Unsets the variable the fixtures interpolate; t.Setenv restores whatever was there afterwards.
func unsetTag(t *testing.T) {
	t.Setenv("COMPOSE_CHECK_TEST_TAG", "")
	os.Unsetenv("COMPOSE_CHECK_TEST_TAG")
}

func TestValidFilePrintsTheProjectAndItsServices(t *testing.T) {
	unsetTag(t)
	summary, problems := check(context.Background(), []string{"testdata/valid.yml"})
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	if want := `compose project "sample": 3 services (db, init, web)`; summary != want {
		t.Fatalf("summary %q, want %q", summary, want)
	}
}

func TestInvalidFilesReportWhy(t *testing.T) {
	unsetTag(t)
	cases := map[string]string{
		"unknown-key.yml":                 "additional properties 'tests' not allowed",
		"required-variable.yml":           "set the nginx tag",
		"unset-variable.yml":              `The "COMPOSE_CHECK_TEST_TAG" variable is not set`,
		"undefined-dependency.yml":        `service "web" depends on undefined service "db"`,
		"healthy-without-healthcheck.yml": `"db" has no healthcheck`,
		"restarting-one-shot.yml":         `"init" restarts (restart: unless-stopped)`,
		"no-healthcheck.yml":              `service "web" runs until stopped but has no healthcheck`,
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			_, problems := check(context.Background(), []string{"testdata/" + file})
			if !strings.Contains(strings.Join(problems, "\n"), want) {
				t.Fatalf("want a problem containing %q, got %q", want, problems)
			}
		})
	}
}
