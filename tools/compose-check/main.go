// compose-check loads Compose files with compose-go, the loader Docker Compose is built on
// (interpolation, merge, schema validation, consistency checks), applies the start-up rules in
// rules.go and prints the project name and services. Exits 1 with the loader's message otherwise.
//
//	compose-check docker-compose-local.yml [override.yml ...]
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check FILE [FILE ...]")
		os.Exit(2)
	}
	summary, problems := check(context.Background(), os.Args[1:])
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "%s is not a valid Compose project:\n  %s\n", strings.Join(os.Args[1:], ", "), strings.Join(problems, "\n  "))
		os.Exit(1)
	}
	fmt.Println(summary)
}

// check returns a one-line summary of the loaded project, or every problem found. Loader
// warnings count as problems: each is a variable or key the file should not rely on.
func check(ctx context.Context, files []string) (string, []string) {
	project, warnings, err := load(ctx, files)
	problems := warnings
	if err != nil {
		return "", append(problems, err.Error())
	}
	for _, err := range startupRules(project) {
		problems = append(problems, err.Error())
	}
	names := project.ServiceNames()
	return fmt.Sprintf("compose project %q: %d services (%s)", project.Name, len(names), strings.Join(names, ", ")), problems
}
