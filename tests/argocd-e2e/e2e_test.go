package e2e

// The cases: every request goes to a real argocd-repo-server, which resolves the file://
// repository with git, streams the app to the real argocd-cmp-server, which runs
// argocd/plugin.yaml's commands (pullthrough init, generate, parameters); or, for the native
// sources, renders with Helm 4.2.1 / kustomize 5.8.1 itself. Expected images are written by
// hand from the fixtures (tests/data/repos/*, testdata/repo) and the shipped argocd/config.yaml.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/argoproj/argo-cd/gitops-engine/pkg/utils/kube"
	"github.com/argoproj/argo-cd/v3/reposerver/apiclient"
	"github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
)

// M is the shipped config's mirror (argocd/config.yaml).
const M = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"

const (
	appName   = "web"
	namespace = "web-prod"
)

var apiVersions = []string{"v1", "apps/v1", "batch/v1", "example.com/v1"}

// ---------------------------------------------------------------------------------------------
// requests

func str(s string) *string { return &s }

func param(name, value string) v1alpha1.ApplicationSourcePluginParameter {
	return v1alpha1.ApplicationSourcePluginParameter{Name: name, String_: str(value)}
}

func paramArray(name string, values ...string) v1alpha1.ApplicationSourcePluginParameter {
	return v1alpha1.ApplicationSourcePluginParameter{Name: name, OptionalArray: &v1alpha1.OptionalArray{Array: values}}
}

func paramMap(name string, m map[string]string) v1alpha1.ApplicationSourcePluginParameter {
	return v1alpha1.ApplicationSourcePluginParameter{Name: name, OptionalMap: &v1alpha1.OptionalMap{Map: m}}
}

func pluginSource(params ...v1alpha1.ApplicationSourcePluginParameter) v1alpha1.ApplicationSource {
	return v1alpha1.ApplicationSource{Plugin: &v1alpha1.ApplicationSourcePlugin{Name: "pullthrough", Parameters: params}}
}

// request is what the application controller sends for an Application with this source.
func request(repo, path string, src v1alpha1.ApplicationSource) *apiclient.ManifestRequest {
	url := env.repos[repo]
	src.RepoURL, src.Path, src.TargetRevision = url, path, "HEAD"
	return &apiclient.ManifestRequest{
		Repo:               &v1alpha1.Repository{Repo: url},
		Revision:           "HEAD",
		AppName:            appName,
		Namespace:          namespace,
		ApplicationSource:  &src,
		KubeVersion:        "1.31.0",
		ApiVersions:        apiVersions,
		AppLabelKey:        "app.kubernetes.io/instance",
		TrackingMethod:     string(v1alpha1.TrackingMethodAnnotation),
		NoCache:            true,
		NoRevisionCache:    true,
		KustomizeOptions:   &v1alpha1.KustomizeOptions{},
		HelmOptions:        &v1alpha1.HelmOptions{ValuesFileSchemes: []string{"https", "http"}},
		ProjectName:        "default",
		ProjectSourceRepos: []string{"*"},
	}
}

type object = map[string]any

// generate asks srv for the manifests and decodes them.
func generate(t *testing.T, srv *server, q *apiclient.ManifestRequest) ([]object, error) {
	t.Helper()
	resp, err := srv.client.GenerateManifest(ctx(t), q)
	if err != nil {
		return nil, err
	}
	objs := make([]object, 0, len(resp.Manifests))
	for _, m := range resp.Manifests {
		var o object
		if err := json.Unmarshal([]byte(m), &o); err != nil {
			t.Fatalf("manifest is not JSON: %v: %s", err, m)
		}
		objs = append(objs, o)
	}
	return objs, nil
}

func mustGenerate(t *testing.T, srv *server, q *apiclient.ManifestRequest) []object {
	t.Helper()
	objs, err := generate(t, srv, q)
	if err != nil {
		t.Fatalf("GenerateManifest failed: %v", err)
	}
	if len(objs) == 0 {
		t.Fatal("GenerateManifest returned no manifests")
	}
	return objs
}

// mustFail checks that Argo CD reports an error carrying want (pullthrough's one-line message
// or the renderer's) and no manifests.
func mustFail(t *testing.T, srv *server, q *apiclient.ManifestRequest, want string) {
	t.Helper()
	resp, err := srv.client.GenerateManifest(ctx(t), q)
	if err == nil {
		t.Fatalf("GenerateManifest succeeded with %d manifests; want an error carrying %q", len(resp.GetManifests()), want)
	}
	if resp != nil && len(resp.Manifests) > 0 {
		t.Fatalf("an error and %d manifests", len(resp.Manifests))
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error does not carry %q:\n%v", want, err)
	}
	t.Logf("Argo CD reports: %v", err)
}

// ---------------------------------------------------------------------------------------------
// images and comparison

var imagePath = regexp.MustCompile(`\.(containers|initContainers|ephemeralContainers)\[\d+\]\.image$`)

// images lists "Kind/name path = image" for every container image of objs, sorted.
func images(objs []object) []string {
	var out []string
	for _, o := range objs {
		walk(o, "", func(path string, v any) {
			if s, ok := v.(string); ok && imagePath.MatchString(path) {
				out = append(out, fmt.Sprintf("%s %s = %s", id(o), path, s))
			}
		})
	}
	sort.Strings(out)
	return out
}

func id(o object) string {
	meta, _ := o["metadata"].(map[string]any)
	return fmt.Sprintf("%v/%v", o["kind"], meta["name"])
}

func walk(v any, path string, f func(string, any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			walk(e, path+"."+k, f)
		}
	case []any:
		for i, e := range x {
			walk(e, fmt.Sprintf("%s[%d]", path, i), f)
		}
	default:
		f(path, v)
	}
}

func byID(objs []object) map[string]object {
	m := map[string]object{}
	for _, o := range objs {
		meta, _ := o["metadata"].(map[string]any)
		m[fmt.Sprintf("%v %v %v/%v", o["apiVersion"], o["kind"], meta["namespace"], meta["name"])] = o
	}
	return m
}

// diffPaths lists the paths where a and b differ (missing keys, types, values, lengths).
func diffPaths(a, b any, path string, out *[]string) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			*out = append(*out, path)
			return
		}
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		for k := range keys {
			va, oka := x[k]
			vb, okb := y[k]
			if !oka || !okb {
				*out = append(*out, path+"."+k)
				continue
			}
			diffPaths(va, vb, path+"."+k, out)
		}
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			*out = append(*out, path)
			return
		}
		for i := range x {
			diffPaths(x[i], y[i], fmt.Sprintf("%s[%d]", path, i), out)
		}
	default:
		if !reflect.DeepEqual(a, b) {
			*out = append(*out, path)
		}
	}
}

// sameExceptImages checks that the plugin's objects are the native source's objects, and that
// they differ only in container image strings, each rewritten as mirror says.
func sameExceptImages(t *testing.T, native, plugin []object, mirror map[string]string) {
	t.Helper()
	n, p := byID(native), byID(plugin)
	if len(native) != len(plugin) || len(n) != len(p) {
		t.Fatalf("native source: %d objects %v; plugin: %d objects %v", len(native), keys(n), len(plugin), keys(p))
	}
	changed := 0
	for k, no := range n {
		po, ok := p[k]
		if !ok {
			t.Fatalf("object %s is missing from the plugin's output (it has %v)", k, keys(p))
		}
		var paths []string
		diffPaths(no, po, "", &paths)
		for _, path := range paths {
			if !imagePath.MatchString(path) {
				t.Errorf("%s: %s differs between native and plugin output (only images may)", k, path)
				continue
			}
			before, after := lookup(no, path), lookup(po, path)
			if want, ok := mirror[before]; !ok || want != after {
				t.Errorf("%s %s: %q became %q; the table says %q", k, path, before, after, want)
			}
			changed++
		}
	}
	if changed == 0 && len(mirror) > 0 {
		t.Error("no image differs between native and plugin output")
	}
}

func keys(m map[string]object) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func lookup(o object, path string) string {
	var found string
	walk(o, "", func(p string, v any) {
		if p == path {
			found, _ = v.(string)
		}
	})
	return found
}

func imageValues(objs []object) []string {
	var out []string
	for _, line := range images(objs) {
		out = append(out, line[strings.Index(line, " = ")+3:])
	}
	sort.Strings(out)
	return out
}

func wantImages(t *testing.T, objs []object, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := imageValues(objs); !reflect.DeepEqual(got, want) {
		t.Fatalf("images:\n got  %q\n want %q\n(%s)", got, want, strings.Join(images(objs), "\n "))
	}
}

// ---------------------------------------------------------------------------------------------
// Helm: chart `web` with the local subchart `metrics`, a CRD, a test hook, value files (one from
// the repository root) and --set.

var helmMirror = map[string]string{
	"nginx:1.27.4": M + "/docker-hub/library/nginx:1.27.4",
	"quay.io/prometheus/node-exporter:v1.8.2":                                                M + "/quay/prometheus/node-exporter:v1.8.2",
	"ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector:0.111.0": M + "/ghcr/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector:0.111.0",
	"registry.k8s.io/pause@sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a": M + "/registry-k8s-io/pause@sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a",
	"public.ecr.aws/aws-observability/aws-otel-collector:v0.41.1":                            M + "/public-ecr/aws-observability/aws-otel-collector:v0.41.1",
	"docker.io/curlimages/curl:8.10.1":                                                       M + "/docker-hub/curlimages/curl:8.10.1",
}

func helmPlugin(extra ...v1alpha1.ApplicationSourcePluginParameter) v1alpha1.ApplicationSource {
	return pluginSource(append([]v1alpha1.ApplicationSourcePluginParameter{
		paramArray("values-files", "values-prod.yaml", "/shared/values-common.yaml"),
		paramMap("set", map[string]string{"replicaCount": "2"}),
	}, extra...)...)
}

func helmNative() v1alpha1.ApplicationSource {
	return v1alpha1.ApplicationSource{Helm: &v1alpha1.ApplicationSourceHelm{
		ValueFiles: []string{"values-prod.yaml", "/shared/values-common.yaml"},
		Parameters: []v1alpha1.HelmParameter{{Name: "replicaCount", Value: "2"}},
	}}
}

func TestHelmPluginRewritesEveryImage(t *testing.T) {
	objs := mustGenerate(t, env.named, request("helm-repo", "apps/web", helmPlugin()))
	wantImages(t, objs,
		"busybox:1.36", // excluded by the shipped config
		M+"/docker-hub/library/nginx:1.27.4",
		M+"/quay/prometheus/node-exporter:v1.8.2",
		M+"/ghcr/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector:0.111.0",
		M+"/registry-k8s-io/pause@sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a",
		M+"/public-ecr/aws-observability/aws-otel-collector:v0.41.1",
		M+"/docker-hub/curlimages/curl:8.10.1",
	)
	// The value files and --set reached Helm: replicas from `set`, the label from /shared/...
	for _, o := range objs {
		if o["kind"] == "Deployment" {
			spec := o["spec"].(map[string]any)
			labels := o["metadata"].(map[string]any)["labels"].(map[string]any)
			if spec["replicas"] != float64(2) || labels["common"] != "shared" || labels["env"] != "prod" {
				t.Fatalf("values not applied: replicas %v, labels %v", spec["replicas"], labels)
			}
			return
		}
	}
	t.Fatal("no Deployment in the output")
}

func TestHelmNativeParity(t *testing.T) {
	native := mustGenerate(t, env.named, request("helm-repo", "apps/web", helmNative()))
	plugin := mustGenerate(t, env.named, request("helm-repo", "apps/web", helmPlugin()))
	sameExceptImages(t, native, plugin, helmMirror)
}

func TestHelmVersionAndPassCredentialsNativeParity(t *testing.T) {
	for _, v := range []string{"v3", "v4"} {
		native := helmNative()
		native.Helm.Version, native.Helm.PassCredentials = v, true
		n := mustGenerate(t, env.named, request("helm-repo", "apps/web", native))
		p := mustGenerate(t, env.named, request("helm-repo", "apps/web", helmPlugin(param("helm-version", v), param("pass-credentials", "true"))))
		sameExceptImages(t, n, p, helmMirror)
	}
	native := helmNative()
	native.Helm.Version = "v2"
	mustFail(t, env.named, request("helm-repo", "apps/web", native), "helm version 'v2' is not supported")
	mustFail(t, env.named, request("helm-repo", "apps/web", helmPlugin(param("helm-version", "v2"))),
		"pullthrough: parameter helm-version: helm version 'v2' is not supported")
}

// ---------------------------------------------------------------------------------------------
// Kustomize: overlay apps/web over bases/web (namespace, namePrefix, labels, an images: entry).

var kustomizeMirror = map[string]string{
	"docker.io/library/postgres:16.4":         M + "/docker-hub/library/postgres:16.4",
	"nginx:1.27.4":                            M + "/docker-hub/library/nginx:1.27.4",
	"docker.io/library/redis:7.2":             M + "/docker-hub/library/redis:7.2",
	"quay.io/prometheus/node-exporter:v1.8.2": M + "/quay/prometheus/node-exporter:v1.8.2",
	"ghcr.io/stefanprodan/podinfo:6.7.0@sha256:0b0d4d2d9a2e8c9f3c3f3e2c9f0e6d7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e": M + "/ghcr/stefanprodan/podinfo:6.7.0@sha256:0b0d4d2d9a2e8c9f3c3f3e2c9f0e6d7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e",
	"registry.k8s.io/kubectl:v1.31.0":       M + "/registry-k8s-io/kubectl:v1.31.0",
	"public.ecr.aws/aws-cli/aws-cli:2.17.0": M + "/public-ecr/aws-cli/aws-cli:2.17.0",
}

func TestKustomizePluginRewritesEveryImage(t *testing.T) {
	objs := mustGenerate(t, env.named, request("kustomize-repo", "apps/web", pluginSource()))
	var want []string
	for _, v := range kustomizeMirror {
		want = append(want, v)
	}
	wantImages(t, objs, want...)
}

func TestKustomizeNativeParity(t *testing.T) {
	native := mustGenerate(t, env.named, request("kustomize-repo", "apps/web", v1alpha1.ApplicationSource{}))
	plugin := mustGenerate(t, env.named, request("kustomize-repo", "apps/web", pluginSource()))
	sameExceptImages(t, native, plugin, kustomizeMirror)
}

// spec.source.kustomize options (util/kustomize/kustomize.go Build) as native source and as the
// plugin's kustomize-* parameters: the same objects, only the images differ.

const kustomizePatch = "- op: add\n  path: /metadata/annotations/patched\n  value: \"yes\"\n"

func kustomizeNative(t *testing.T, js string) v1alpha1.ApplicationSource {
	t.Helper()
	var k v1alpha1.ApplicationSourceKustomize
	if err := json.Unmarshal([]byte(js), &k); err != nil {
		t.Fatalf("native kustomize options: %v", err)
	}
	return v1alpha1.ApplicationSource{Kustomize: &k}
}

func TestKustomizeOptionsNativeParity(t *testing.T) {
	patchJSON, _ := json.Marshal(kustomizePatch)
	native := kustomizeNative(t, `{
		"namePrefix": "team-", "nameSuffix": "-v2",
		"images": ["nginx=mirror.example.com/nginx:1.28.0", "docker.io/library/redis:$ARGOCD_APP_NAME"],
		"replicas": [{"name": "web", "count": "3"}],
		"commonLabels": {"team": "$ARGOCD_APP_NAME"},
		"commonAnnotations": {"owner": "$ARGOCD_APP_NAME"},
		"forceCommonLabels": true,
		"namespace": "other",
		"patches": [{"target": {"kind": "Deployment"}, "patch": `+string(patchJSON)+`}],
		"components": ["../../components/tier", "../../components/missing"],
		"ignoreMissingComponents": true
	}`)
	plugin := pluginSource(
		param("kustomize-name-prefix", "team-"),
		param("kustomize-name-suffix", "-v2"),
		paramArray("kustomize-images", "nginx=mirror.example.com/nginx:1.28.0", "docker.io/library/redis:$ARGOCD_APP_NAME"),
		paramMap("kustomize-replicas", map[string]string{"web": "3"}),
		paramMap("kustomize-common-labels", map[string]string{"team": "$ARGOCD_APP_NAME"}),
		paramMap("kustomize-common-annotations", map[string]string{"owner": "$ARGOCD_APP_NAME"}),
		param("kustomize-force-common-labels", "true"),
		param("kustomize-namespace", "other"),
		param("kustomize-patches", "- target: {kind: Deployment}\n  patch: |\n    - op: add\n      path: /metadata/annotations/patched\n      value: \"yes\"\n"),
		paramArray("kustomize-components", "../../components/tier", "../../components/missing"),
		param("kustomize-ignore-missing-components", "true"),
	)
	n := mustGenerate(t, env.named, request("kustomize-repo", "apps/web", native))
	p := mustGenerate(t, env.named, request("kustomize-repo", "apps/web", plugin))
	mirror := map[string]string{"docker.io/library/redis:web": M + "/docker-hub/library/redis:web"}
	for k, v := range kustomizeMirror {
		mirror[k] = v
	}
	sameExceptImages(t, n, p, mirror)
	// The options did reach kustomize (the same in both).
	d := byID(p)["apps/v1 Deployment other/team-web-v2"]
	if d == nil {
		t.Fatalf("no Deployment other/team-web-v2 in %v", keys(byID(p)))
	}
	meta := d["metadata"].(map[string]any)
	if meta["annotations"].(map[string]any)["patched"] != "yes" || meta["labels"].(map[string]any)["tier"] != "frontend" || meta["labels"].(map[string]any)["team"] != "web" {
		t.Fatalf("options not applied: %v", meta)
	}
}

func TestKustomizeLabelAndAnnotationFlagsNativeParity(t *testing.T) {
	native := kustomizeNative(t, `{
		"commonLabels": {"team": "a"}, "labelWithoutSelector": true, "labelIncludeTemplates": true,
		"commonAnnotations": {"owner": "$ARGOCD_APP_NAME"}, "commonAnnotationsEnvsubst": true, "forceCommonAnnotations": true
	}`)
	plugin := pluginSource(
		paramMap("kustomize-common-labels", map[string]string{"team": "a"}),
		param("kustomize-label-without-selector", "true"),
		param("kustomize-label-include-templates", "true"),
		paramMap("kustomize-common-annotations", map[string]string{"owner": "$ARGOCD_APP_NAME"}),
		param("kustomize-common-annotations-envsubst", "true"),
		param("kustomize-force-common-annotations", "true"),
	)
	n := mustGenerate(t, env.named, request("kustomize-repo", "apps/web", native))
	p := mustGenerate(t, env.named, request("kustomize-repo", "apps/web", plugin))
	sameExceptImages(t, n, p, kustomizeMirror)
}

func TestKustomizeBadOptionsAreErrorsNamingTheParameter(t *testing.T) {
	// pullthrough: kustomize-images: `<path>/kustomize edit set image …` failed …
	mustFail(t, env.named, request("kustomize-repo", "apps/web", pluginSource(paramArray("kustomize-images", "bad image!"))),
		"kustomize edit set image 'bad image!'` failed exit status 1: invalid format of image, use one of the following options:")
	mustFail(t, env.named, request("kustomize-repo", "apps/web", kustomizeNative(t, `{"images": ["bad image!"]}`)), "invalid format of image")
	mustFail(t, env.named, request("kustomize-repo", "apps/web", pluginSource(paramArray("kustomize-components", "../../components/missing"))),
		"kustomize edit add component ../../components/missing` failed exit status 1: ../../components/missing has no match")
}

// ---------------------------------------------------------------------------------------------
// Directory: YAML and JSON files, a non-manifest file, a nested folder.

var directoryMirror = map[string]string{
	"nginx":                                   M + "/docker-hub/library/nginx:latest",
	"quay.io/prometheus/node-exporter:v1.8.2": M + "/quay/prometheus/node-exporter:v1.8.2",
	"ghcr.io/stefanprodan/podinfo:6.7.0":      M + "/ghcr/stefanprodan/podinfo:6.7.0",
	"registry.k8s.io/pause@sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a": M + "/registry-k8s-io/pause@sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a",
	"public.ecr.aws/docker/library/python:3.12-slim": M + "/public-ecr/docker/library/python:3.12-slim",
	"docker.io/library/redis:7.2":                    M + "/docker-hub/library/redis:7.2",
}

func TestDirectoryPluginRewritesEveryImage(t *testing.T) {
	objs := mustGenerate(t, env.named, request("dir-repo", "apps/web", pluginSource()))
	wantImages(t, objs,
		"busybox:1.36",
		M+"/docker-hub/library/nginx:latest",
		M+"/quay/prometheus/node-exporter:v1.8.2",
		M+"/ghcr/stefanprodan/podinfo:6.7.0",
		M+"/registry-k8s-io/pause@sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a",
	)
}

func TestDirectoryNativeParity(t *testing.T) {
	native := mustGenerate(t, env.named, request("dir-repo", "apps/web", v1alpha1.ApplicationSource{}))
	plugin := mustGenerate(t, env.named, request("dir-repo", "apps/web", pluginSource()))
	sameExceptImages(t, native, plugin, directoryMirror)
}

func TestDirectoryRecurseNativeParity(t *testing.T) {
	native := mustGenerate(t, env.named, request("dir-repo", "apps/web",
		v1alpha1.ApplicationSource{Directory: &v1alpha1.ApplicationSourceDirectory{Recurse: true}}))
	plugin := mustGenerate(t, env.named, request("dir-repo", "apps/web", pluginSource(param("directory-recurse", "true"))))
	if len(native) <= 3 {
		t.Fatalf("recursion found only %d objects", len(native))
	}
	sameExceptImages(t, native, plugin, directoryMirror)
}

// Directory apps read file by file (getObjsFromYAMLOrJSON): unrelated YAML ignored, a JSON file
// first and another later, all through the plugin's one joined stream.

func TestDirectoryFileByFileParity(t *testing.T) {
	native := mustGenerate(t, env.named, request("e2e", "mixed-dir", v1alpha1.ApplicationSource{}))
	plugin := mustGenerate(t, env.named, request("e2e", "mixed-dir", pluginSource()))
	var names []string
	for _, o := range native {
		names = append(names, id(o))
	}
	sort.Strings(names)
	want := []string{"ConfigMap/b-config", "ConfigMap/g-flow", "Pod/b-pod", "Pod/first-json", "Pod/second-json"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("native directory source read %q, the fixture has %q", names, want)
	}
	sameExceptImages(t, native, plugin, map[string]string{
		"nginx:1.27.4":                            M + "/docker-hub/library/nginx:1.27.4",
		"quay.io/prometheus/node-exporter:v1.8.2": M + "/quay/prometheus/node-exporter:v1.8.2",
		"ghcr.io/stefanprodan/podinfo:6.7.0":      M + "/ghcr/stefanprodan/podinfo:6.7.0",
	})
}

func TestDirectoryObjectsThenNonObjectIsAnError(t *testing.T) {
	mustFail(t, env.named, request("e2e", "mixed-dir-bad", v1alpha1.ApplicationSource{}), "objects-then-values.yaml")
	mustFail(t, env.named, request("e2e", "mixed-dir-bad", pluginSource()),
		"pullthrough: directory: objects-then-values.yaml:6:1: document 2 is a mapping without a string `kind` (not a Kubernetes object), after Kubernetes objects in the same file; Argo CD fails the app on it")
}

// ---------------------------------------------------------------------------------------------
// Jsonnet directory apps (testdata/repo/jsonnet-app, libs in jsonnet-libs): Argo CD's own
// evaluation (makeJsonnetVM, go-jsonnet v0.22.0 linked into the repo-server) against the
// plugin's (the jsonnet CLI of the same module and version).

// jsonnetNative is spec.source.directory with recurse and jsonnet extVars, tlas and libs.
func jsonnetNative() v1alpha1.ApplicationSource {
	return v1alpha1.ApplicationSource{Directory: &v1alpha1.ApplicationSourceDirectory{
		Recurse: true,
		Jsonnet: v1alpha1.ApplicationSourceJsonnet{
			ExtVars: []v1alpha1.JsonnetVar{
				{Name: "image", Value: "nginx:1.27.4"},
				{Name: "str", Value: "3"},
				{Name: "code", Value: "{a: [1, 2], b: 'x'}", Code: true},
				{Name: "app", Value: "$ARGOCD_APP_NAME-${ARGOCD_APP_NAMESPACE}"},
				{Name: "escaped", Value: "$$ARGOCD_APP_NAME"},
			},
			TLAs: []v1alpha1.JsonnetVar{
				{Name: "tier", Value: "gold"},
				{Name: "replicas", Value: "2 * 2", Code: true},
			},
			Libs: []string{"jsonnet-libs/lib1", "/jsonnet-libs/lib2"},
		},
	}}
}

// jsonnetPlugin is the same through the plugin's parameters.
func jsonnetPlugin(extra ...v1alpha1.ApplicationSourcePluginParameter) v1alpha1.ApplicationSource {
	return pluginSource(append([]v1alpha1.ApplicationSourcePluginParameter{
		param("directory-recurse", "true"),
		paramArray("directory-jsonnet-ext-vars",
			"image=nginx:1.27.4",
			"str=3",
			`{"name": "code", "value": "{a: [1, 2], b: 'x'}", "code": true}`,
			"app=$ARGOCD_APP_NAME-${ARGOCD_APP_NAMESPACE}",
			"escaped=$$ARGOCD_APP_NAME",
		),
		paramArray("directory-jsonnet-tlas", "tier=gold", `{"name": "replicas", "value": "2 * 2", "code": true}`),
		paramArray("directory-jsonnet-libs", "jsonnet-libs/lib1", "/jsonnet-libs/lib2"),
	}, extra...)...)
}

func TestJsonnetNativeParity(t *testing.T) {
	native := mustGenerate(t, env.named, request("e2e", "jsonnet-app", jsonnetNative()))
	plugin := mustGenerate(t, env.named, request("e2e", "jsonnet-app", jsonnetPlugin()))
	var names []string
	for _, o := range native {
		names = append(names, id(o))
	}
	want := []string{"ConfigMap/a-plain", "Pod/jsonnet-pod", "ConfigMap/jsonnet-main", "Widget/jsonnet-numbers", "ConfigMap/jsonnet-second", "ConfigMap/jsonnet-sub"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("native directory source gave %q, the fixture has %q (in walk order)", names, want)
	}
	// What the fixture is for, as Argo CD itself evaluated it: the plugin must match it all.
	data := func(name string) map[string]any {
		for _, o := range native {
			if id(o) == "ConfigMap/"+name {
				d, _ := o["data"].(map[string]any)
				return d
			}
		}
		t.Fatalf("native output has no ConfigMap/%s", name)
		return nil
	}
	for _, c := range []struct{ name, key, want string }{
		{"jsonnet-main", "here", "beside main.jsonnet"},
		{"jsonnet-main", "which", "lib2"},
		{"jsonnet-main", "tier", "gold"},
		{"jsonnet-main", "replicas", "4"},
		{"jsonnet-main", "strType", "string"},
		{"jsonnet-main", "codeType", "object"},
		{"jsonnet-main", "app", "web-web-prod"},
		{"jsonnet-main", "escaped", "$ARGOCD_APP_NAME"}, // first file: substituted once
		{"jsonnet-second", "escaped", "web"},            // second file: once more
		{"jsonnet-sub", "both", "lib1"},
		{"jsonnet-sub", "which", "lib2"},
	} {
		if got := data(c.name)[c.key]; got != c.want {
			t.Errorf("native %s data.%s = %q, the fixture expects %q", c.name, c.key, got, c.want)
		}
	}
	sameExceptImages(t, native, plugin, map[string]string{"nginx:1.27.4": M + "/docker-hub/library/nginx:1.27.4"})
	// Same order too (Argo CD keeps the plugin's order).
	var pnames []string
	for _, o := range plugin {
		pnames = append(pnames, id(o))
	}
	if !reflect.DeepEqual(pnames, want) {
		t.Errorf("plugin gave %q, native %q", pnames, want)
	}
}

func TestJsonnetErrorsLikeNative(t *testing.T) {
	mustFail(t, env.named, request("e2e", "jsonnet-bad", v1alpha1.ApplicationSource{}),
		`Failed to evaluate jsonnet "bad.jsonnet": RUNTIME ERROR: boom: 1`)
	mustFail(t, env.named, request("e2e", "jsonnet-bad", pluginSource()),
		"pullthrough: directory: 'bad.jsonnet': jsonnet evaluation failed: RUNTIME ERROR: boom: 1 | ")

	outside := jsonnetNative()
	outside.Directory.Jsonnet.Libs = []string{"../outside"}
	mustFail(t, env.named, request("e2e", "jsonnet-app", outside), "file '../outside' resolved to outside repository root")
	mustFail(t, env.named, request("e2e", "jsonnet-app", pluginSource(param("directory-recurse", "true"), paramArray("directory-jsonnet-libs", "../outside"))),
		"pullthrough: directory-jsonnet-libs: library path '../outside' resolved to outside repository root")

	// What go-yaml cannot carry from a plugin (U+0085 becomes a space) is refused, naming the file.
	native := mustGenerate(t, env.named, request("e2e", "jsonnet-c1", v1alpha1.ApplicationSource{}))
	if got := native[0]["data"].(map[string]any)["nel"]; got != "a\u0085b" {
		t.Fatalf("native data.nel = %q", got)
	}
	mustFail(t, env.named, request("e2e", "jsonnet-c1", pluginSource()),
		"pullthrough: directory: c1.jsonnet (output):4:16: a C1 control character or U+FFFE/U+FFFF")

	mustFail(t, env.named, request("e2e", "jsonnet-app", pluginSource(paramArray("directory-jsonnet-tlas", "no-value"))),
		`pullthrough: parameter directory-jsonnet-tlas: entry 1 "no-value": expected NAME=VALUE`)
}

// ---------------------------------------------------------------------------------------------
// Switched off, refused, failing and empty apps.

func TestEnabledFalseRendersLikeNative(t *testing.T) {
	native := mustGenerate(t, env.named, request("helm-repo", "apps/web", helmNative()))
	plugin := mustGenerate(t, env.named, request("helm-repo", "apps/web", helmPlugin(param("enabled", "false"))))
	sameExceptImages(t, native, plugin, nil)
	if len(images(native)) == 0 || !reflect.DeepEqual(images(native), images(plugin)) {
		t.Fatalf("images differ with enabled=false:\n%q\n%q", images(native), images(plugin))
	}
}

func TestForbiddenOverrideIsAnError(t *testing.T) {
	// The shipped config leaves `registries` out of overrides.allow.
	mustFail(t, env.named, request("dir-repo", "apps/web", pluginSource(paramMap("registries", map[string]string{"docker.io": "elsewhere"}))),
		`pullthrough: parameter registries: not allowed by the sidecar config (add "registries" to overrides.allow to let apps set it)`)
}

func TestMirrorOutsideAllowedMirrorsIsAnError(t *testing.T) {
	mustFail(t, env.named, request("dir-repo", "apps/web", pluginSource(param("mirror", "evil.example.com"))),
		`pullthrough: parameter mirror: mirror "evil.example.com" is not in the sidecar's allowedMirrors (111111111111.dkr.ecr.*.amazonaws.com)`)
	// Issue 18: the shipped pattern's `*` is one host label; it never reaches across `.`, `:`
	// or `/` to an attacker's host, and a value that is not host[:port][/path] is refused too.
	for _, m := range []string{
		"111111111111.dkr.ecr.attacker.io/x.amazonaws.com",
		"111111111111.dkr.ecr.attacker.io:443/x.amazonaws.com",
		"111111111111.dkr.ecr.eu-west-1.amazonaws.com.attacker.io",
	} {
		mustFail(t, env.named, request("dir-repo", "apps/web", pluginSource(param("mirror", m))),
			fmt.Sprintf(`pullthrough: parameter mirror: mirror %q is not in the sidecar's allowedMirrors (111111111111.dkr.ecr.*.amazonaws.com)`, m))
	}
	mustFail(t, env.named, request("dir-repo", "apps/web", pluginSource(param("mirror", "111111111111.dkr.ecr.eu-west-1.amazonaws.com@attacker.io"))),
		`pullthrough: parameter mirror: mirror "111111111111.dkr.ecr.eu-west-1.amazonaws.com@attacker.io" is not in the sidecar's allowedMirrors (111111111111.dkr.ecr.*.amazonaws.com): "111111111111.dkr.ecr.eu-west-1.amazonaws.com@attacker.io" does not make valid image names: invalid reference format`)
}

func TestAllowedMirrorOverrideIsUsed(t *testing.T) {
	other := "111111111111.dkr.ecr.us-east-1.amazonaws.com"
	objs := mustGenerate(t, env.named, request("dir-repo", "apps/web", pluginSource(param("mirror", other))))
	for _, img := range imageValues(objs) {
		if img != "busybox:1.36" && !strings.HasPrefix(img, other+"/") {
			t.Fatalf("%s is not on the app's mirror %s", img, other)
		}
	}
}

func TestChartThatFailsToRenderIsAnError(t *testing.T) {
	mustFail(t, env.named, request("e2e", "broken-chart", pluginSource()), "image.repository is required")
	// Argo CD's own Helm support fails the same way.
	mustFail(t, env.named, request("e2e", "broken-chart", v1alpha1.ApplicationSource{}), "image.repository is required")
}

func TestEmptyRenderIsAnErrorNotAnEmptyList(t *testing.T) {
	// Argo CD's native directory source returns an empty list here, which prunes the app.
	native, err := generate(t, env.named, request("e2e", "empty-app", v1alpha1.ApplicationSource{}))
	if err != nil || len(native) != 0 {
		t.Fatalf("native directory source: %d objects, error %v; expected an empty list", len(native), err)
	}
	mustFail(t, env.named, request("e2e", "empty-app", pluginSource()),
		`pullthrough: directory rendered no Kubernetes objects; Argo CD would prune every resource of this app. Set the parameter allow-empty to "true" if that is intended`)
}

// ---------------------------------------------------------------------------------------------
// The parameters announcement, as the UI receives it (GetAppDetails → cmp-server
// GetParametersAnnouncement → `pullthrough parameters` + plugin.yaml's static entries).

func TestParametersAnnouncement(t *testing.T) {
	other := "111111111111.dkr.ecr.us-east-1.amazonaws.com"
	src := pluginSource(param("mirror", other))
	src.RepoURL, src.Path, src.TargetRevision = env.repos["dir-repo"], "apps/web", "HEAD"
	resp, err := env.named.client.GetAppDetails(ctx(t), &apiclient.RepoServerAppDetailsQuery{
		Repo:    &v1alpha1.Repository{Repo: env.repos["dir-repo"]},
		Source:  &src,
		AppName: appName,
		NoCache: true,
	})
	if err != nil {
		t.Fatalf("GetAppDetails: %v", err)
	}
	if resp.Type != "Plugin" || resp.Plugin == nil {
		t.Fatalf("app type %q, plugin %v", resp.Type, resp.Plugin)
	}
	ann := resp.Plugin.ParametersAnnouncement
	// Static entries: plugin.yaml's, in its order.
	static := staticParameterNames(t)
	var dynamic []*apiclient.ParameterAnnouncement
	var staticSeen []string
	for i, a := range ann {
		if i < len(ann)-len(static) {
			dynamic = append(dynamic, a)
		} else {
			staticSeen = append(staticSeen, a.Name)
		}
	}
	if !reflect.DeepEqual(staticSeen, static) {
		t.Fatalf("static entries at the end: %q, plugin.yaml has %q", staticSeen, static)
	}
	if len(dynamic) != len(static) {
		t.Fatalf("%d dynamic entries, %d static", len(dynamic), len(static))
	}
	byName := map[string]*apiclient.ParameterAnnouncement{}
	for _, a := range dynamic {
		byName[a.Name] = a
	}
	// Effective values: the app's own mirror, the admin's registry map and exclude list.
	if got := byName["mirror"].GetString_(); got != other {
		t.Errorf("mirror announced as %q, want the app's %q", got, other)
	}
	wantRegistries := map[string]string{"docker.io": "docker-hub", "public.ecr.aws": "public-ecr", "ghcr.io": "ghcr", "quay.io": "quay", "registry.k8s.io": "registry-k8s-io"}
	if got := byName["registries"].GetMap(); !reflect.DeepEqual(got, wantRegistries) || byName["registries"].CollectionType != "map" {
		t.Errorf("registries announced as %v (%s)", got, byName["registries"].CollectionType)
	}
	if got := byName["exclude"].GetArray(); !reflect.DeepEqual(got, []string{"docker.io/library/busybox"}) {
		t.Errorf("exclude announced as %q", got)
	}
	if got := byName["enabled"].GetString_(); got != "true" || byName["enabled"].Title != "Rewrite images" {
		t.Errorf("enabled announced as %q / %q", got, byName["enabled"].Title)
	}
	if got := byName["source-type"].GetString_(); got != "directory" {
		t.Errorf("source-type announced as %q", got)
	}
}

// A bad parameter does not break the UI's Parameters tab: GetAppDetails still returns the
// announcement, the bad entry carrying its error, while GenerateManifest refuses.
func TestParametersAnnouncementWithABadParameter(t *testing.T) {
	src := pluginSource(param("skip-crds", "maybe"))
	src.RepoURL, src.Path, src.TargetRevision = env.repos["dir-repo"], "apps/web", "HEAD"
	resp, err := env.named.client.GetAppDetails(ctx(t), &apiclient.RepoServerAppDetailsQuery{
		Repo: &v1alpha1.Repository{Repo: env.repos["dir-repo"]}, Source: &src, AppName: appName, NoCache: true,
	})
	if err != nil {
		t.Fatalf("GetAppDetails with a bad parameter: %v", err)
	}
	var entry *apiclient.ParameterAnnouncement
	for _, a := range resp.Plugin.ParametersAnnouncement {
		if a.Name == "skip-crds" {
			entry = a
			break // the dynamic entry comes first
		}
	}
	want := `Error: parameter skip-crds: expected "true" or "false", got "maybe"`
	if entry == nil || !strings.HasPrefix(entry.Tooltip, want) || entry.Title != "Skip CRDs (invalid: ignored)" || entry.GetString_() != "false" {
		t.Fatalf("skip-crds announced as %+v; want the tooltip to start with %q", entry, want)
	}
	mustFail(t, env.named, request("dir-repo", "apps/web", pluginSource(param("skip-crds", "maybe"))), want[len("Error: "):])
}

func staticParameterNames(t *testing.T) []string {
	raw, err := os.ReadFile(filepath.Join(env.root, "argocd/plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	inStatic := false
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "static:":
			inStatic = true
		case inStatic && strings.HasPrefix(trimmed, "- name: "):
			names = append(names, strings.TrimPrefix(trimmed, "- name: "))
		case inStatic && !strings.HasPrefix(line, "    ") && trimmed != "" && !strings.HasPrefix(trimmed, "#"):
			inStatic = false
		}
	}
	if len(names) < 10 {
		t.Fatalf("found only %d static parameters in plugin.yaml", len(names))
	}
	return names
}

// ---------------------------------------------------------------------------------------------
// Discovery with argocd/plugin-discovery.yaml (the `.pullthrough` marker).

func TestDiscoveryNamedPlugin(t *testing.T) {
	objs := mustGenerate(t, env.discovery, request("e2e", "discovered-app", pluginSource()))
	wantImages(t, objs, M+"/ghcr/stefanprodan/podinfo:6.7.0")
	// With a discovery rule, naming the plugin is not enough: the app needs the marker.
	mustFail(t, env.discovery, request("e2e", "unmarked-app", pluginSource()),
		`could not find cmp-server plugin with name "pullthrough" supporting the given repository`)
}

func TestDiscoveryUnnamedPlugin(t *testing.T) {
	// plugin: {} and no source type at all both reach pullthrough through the marker.
	unnamed := v1alpha1.ApplicationSource{Plugin: &v1alpha1.ApplicationSourcePlugin{}}
	wantImages(t, mustGenerate(t, env.discovery, request("e2e", "discovered-app", unnamed)), M+"/ghcr/stefanprodan/podinfo:6.7.0")
	wantImages(t, mustGenerate(t, env.discovery, request("e2e", "discovered-app", v1alpha1.ApplicationSource{})), M+"/ghcr/stefanprodan/podinfo:6.7.0")
	// Without the marker Argo CD renders the app natively: pullthrough takes nothing over.
	wantImages(t, mustGenerate(t, env.discovery, request("e2e", "unmarked-app", v1alpha1.ApplicationSource{})), "ghcr.io/stefanprodan/podinfo:6.7.0")
	// And the plugin.yaml without a rule is never discovered.
	wantImages(t, mustGenerate(t, env.named, request("e2e", "discovered-app", v1alpha1.ApplicationSource{})), "ghcr.io/stefanprodan/podinfo:6.7.0")
}

// ---------------------------------------------------------------------------------------------
// The fidelity oracle (tests/oracle, .tools/bin/yaml-oracle) reads the corpus exactly as
// gitops-engine's kube.SplitYAML, the function the repo-server applies to plugin output.

func TestOracleAgreesWithSplitYAML(t *testing.T) {
	oracle := os.Getenv("E2E_YAML_ORACLE")
	if oracle == "" {
		t.Fatal("E2E_YAML_ORACLE is not set")
	}
	files, err := filepath.Glob(filepath.Join(env.root, "tests/data/corpus/*.yaml"))
	if err != nil || len(files) < 15 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := kube.SplitYAML(data)
		if err != nil {
			t.Fatalf("%s: SplitYAML: %v", file, err)
		}
		lines := runOracle(t, oracle, file)
		if len(lines) != len(objs) {
			t.Fatalf("%s: SplitYAML %d objects, oracle %d documents", file, len(objs), len(lines))
		}
		for i, o := range objs {
			var want any
			b, _ := json.Marshal(o.Object)
			_ = json.Unmarshal(b, &want)
			if lines[i].Error != "" || lines[i].UnstructuredError != "" {
				t.Fatalf("%s doc %d: oracle error %q %q", file, i, lines[i].Error, lines[i].UnstructuredError)
			}
			var got any
			_ = json.Unmarshal(lines[i].JSON, &got)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s doc %d: oracle and SplitYAML differ", file, i)
			}
		}
	}
}

type oracleLine struct {
	Doc               int             `json:"doc"`
	JSON              json.RawMessage `json:"json"`
	Error             string          `json:"error"`
	UnstructuredError string          `json:"unstructured_error"`
}

func runOracle(t *testing.T, oracle, file string) []oracleLine {
	t.Helper()
	out, err := execOutput(oracle, file)
	if err != nil {
		t.Fatalf("%s %s: %v", oracle, file, err)
	}
	var lines []oracleLine
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var ol oracleLine
		if err := json.Unmarshal([]byte(l), &ol); err != nil {
			t.Fatalf("oracle line %q: %v", l, err)
		}
		lines = append(lines, ol)
	}
	return lines
}

// ---------------------------------------------------------------------------------------------
// The sidecar image renders with the tools Argo CD v3.5.1 pins: docker/Dockerfile's versions and
// checksums are the ones in this Argo CD release's hack/tool-versions.sh and
// hack/installers/checksums/ (E2E_ARGOCD_SRC is the source tree scripts/argocd-e2e built).

func TestDockerfilePinsArgoCDTools(t *testing.T) {
	src := os.Getenv("E2E_ARGOCD_SRC")
	if src == "" {
		t.Fatal("E2E_ARGOCD_SRC is not set")
	}
	versions, err := os.ReadFile(filepath.Join(src, "hack/tool-versions.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dockerfile, err := os.ReadFile(filepath.Join(env.root, "docker/Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	arg := func(name string) string {
		m := regexp.MustCompile(`(?m)^ARG ` + name + `=(\S+)$`).FindSubmatch(dockerfile)
		if m == nil {
			t.Fatalf("docker/Dockerfile has no ARG %s=", name)
		}
		return string(m[1])
	}
	pin := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `=(\S+)$`).FindSubmatch(versions)
		if m == nil {
			t.Fatalf("hack/tool-versions.sh has no %s=", name)
		}
		return string(m[1])
	}
	sum := func(file string) string {
		b, err := os.ReadFile(filepath.Join(src, "hack/installers/checksums", file+".sha256"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Fields(string(b))[0]
	}
	helm, kustomize := pin("helm4_version"), pin("kustomize5_version")
	for _, c := range []struct{ name, got, want string }{
		{"HELM_VERSION", arg("HELM_VERSION"), "v" + helm},
		{"HELM_SHA256", arg("HELM_SHA256"), sum("helm-v" + helm + "-linux-amd64.tar.gz")},
		{"KUSTOMIZE_VERSION", arg("KUSTOMIZE_VERSION"), "v" + kustomize},
		{"KUSTOMIZE_SHA256", arg("KUSTOMIZE_SHA256"), sum("kustomize_" + kustomize + "_linux_amd64.tar.gz")},
	} {
		if c.got != c.want {
			t.Errorf("docker/Dockerfile %s=%s; Argo CD v3.5.1 pins %s", c.name, c.got, c.want)
		}
	}
	// And the suite itself ran with those versions on the repo-server's PATH.
	out, err := execOutput("helm", "version", "--short")
	if err != nil || !strings.HasPrefix(string(out), "v"+helm) {
		t.Errorf("helm on PATH: %s %v; want v%s", out, err, helm)
	}
	out, err = execOutput("kustomize", "version")
	if err != nil || strings.TrimSpace(string(out)) != "v"+kustomize {
		t.Errorf("kustomize on PATH: %s %v; want v%s", out, err, kustomize)
	}
	// jsonnet: the go-jsonnet module version Argo CD links (its go.mod).
	gomod, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github.com/google/go-jsonnet (v\S+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("Argo CD's go.mod requires no github.com/google/go-jsonnet")
	}
	if got, want := arg("JSONNET_VERSION"), string(m[1]); got != want {
		t.Errorf("docker/Dockerfile JSONNET_VERSION=%s, Argo CD v3.5.1 links go-jsonnet %s", got, want)
	}
	out, err = execOutput("jsonnet", "--version")
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "(Go implementation) "+string(m[1])) {
		t.Errorf("the plugin's jsonnet is %q (%v), Argo CD links go-jsonnet %s", out, err, m[1])
	}
}
