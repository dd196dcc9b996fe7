package main

import (
	"fmt"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
)

// startupRules reports what the loader accepts but `docker compose up` rejects or gets stuck on
// only once containers run: a dependency waited on until healthy that has no healthcheck, and a
// one-shot dependency waited on until it exits that is restarted. It also requires that every
// other (long-running) service declares its own healthcheck, so every dependency can be awaited.
func startupRules(project *types.Project) []error {
	oneShot := map[string]bool{}
	for _, service := range project.Services {
		for name, dependency := range service.DependsOn {
			if dependency.Condition == types.ServiceConditionCompletedSuccessfully {
				oneShot[name] = true
			}
		}
	}
	var errs []error
	for _, name := range project.ServiceNames() {
		service := project.Services[name]
		for _, target := range sortedKeys(service.DependsOn) {
			dependency := project.Services[target]
			switch service.DependsOn[target].Condition {
			case types.ServiceConditionHealthy:
				if !hasHealthcheck(dependency) {
					errs = append(errs, fmt.Errorf("service %q waits for %q to be healthy, but %q has no healthcheck", name, target, target))
				}
			case types.ServiceConditionCompletedSuccessfully:
				if dependency.Restart != "" && dependency.Restart != types.RestartPolicyNo {
					errs = append(errs, fmt.Errorf("service %q waits for %q to complete, but %q restarts (restart: %s)", name, target, target, dependency.Restart))
				}
			}
		}
		if !oneShot[name] && !hasHealthcheck(service) {
			errs = append(errs, fmt.Errorf("service %q runs until stopped but has no healthcheck", name))
		}
	}
	return errs
}

func hasHealthcheck(service types.ServiceConfig) bool {
	check := service.HealthCheck
	return check != nil && !check.Disable && len(check.Test) > 0 && check.Test[0] != "NONE"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}
