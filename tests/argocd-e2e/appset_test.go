package e2e

// examples/applicationset.yaml's cluster values, rendered by Argo CD's own ApplicationSet
// template code (applicationset/utils Render.Replace, goTemplate with the example's options) on
// cluster parameters shaped as the cluster generator makes them (getClusterParameters: the
// metadata map has `annotations` only when the secret has some).

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/argoproj/argo-cd/v3/applicationset/utils"
	"github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"sigs.k8s.io/yaml"
)

func TestApplicationSetExampleMirrorValue(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(env.root, "examples/applicationset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var appset v1alpha1.ApplicationSet
	if err := yaml.Unmarshal(raw, &appset); err != nil {
		t.Fatalf("examples/applicationset.yaml: %v", err)
	}
	gen := appset.Spec.Generators[0].Clusters
	tmpl := gen.Values["mirror"]
	render := func(meta map[string]any) (string, error) {
		params := map[string]any{"name": "c1", "nameNormalized": "c1", "server": "https://c1", "project": "", "metadata": meta}
		return (&utils.Render{}).Replace(tmpl, params, appset.Spec.GoTemplate, appset.Spec.GoTemplateOptions)
	}
	labels := map[string]string{"pullthrough.io/enabled": "true"}
	const mirror = "111111111111.dkr.ecr.us-east-1.amazonaws.com"
	got, err := render(map[string]any{"labels": labels, "annotations": map[string]string{"pullthrough.io/mirror": mirror}})
	if err != nil || got != mirror {
		t.Fatalf("annotated cluster: %q, %v", got, err)
	}
	// The example's own sample mirror is one the shipped config allows.
	if !strings.Contains(string(raw), "pullthrough.io/mirror: "+mirror) {
		t.Fatalf("the example's comment does not show %s", mirror)
	}
	for name, meta := range map[string]map[string]any{
		"secret without annotations":   {"labels": labels},
		"annotations without the mirror": {"labels": labels, "annotations": map[string]string{"other": "x"}},
	} {
		_, err := render(meta)
		if err == nil || !strings.Contains(err.Error(), "cluster c1: annotation pullthrough.io/mirror is missing") {
			t.Errorf("%s: %v; want the example's own message", name, err)
		}
	}
}
