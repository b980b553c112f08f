// Package e2e drives pullthrough through a real Argo CD: the argocd-repo-server and
// argocd-cmp-server binaries of Argo CD v3.5.1 (built by scripts/argocd-e2e), a real
// redis-server, file:// git repositories, and the repo-server's own gRPC client.
//
// This file is the harness: it starts every process on loopback (each in its own process
// group, killed with the test binary), makes the git repositories and offers small helpers.
// The cases are in e2e_test.go.
//
// Environment (set by scripts/argocd-e2e):
//
//	E2E_ARGOCD       the Argo CD binary (one binary, ARGOCD_BINARY_NAME picks the component)
//	E2E_PULLTHROUGH  the pullthrough binary put into plugin.yaml in place of /usr/local/bin/pullthrough
//	E2E_ROOT         the project root (argocd/, tests/data/repos/)
//	E2E_WORK         an empty scratch directory (logs, repositories, sockets)
//	PATH             holds helm (Helm 4.2.1), kustomize (5.8.1), git and redis-server
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v3/reposerver/apiclient"
	utilio "github.com/argoproj/argo-cd/v3/util/io"
	utiltls "github.com/argoproj/argo-cd/v3/util/tls"
	"sigs.k8s.io/yaml"
)

// env holds what TestMain set up; the cases read it.
var env struct {
	root, work string
	argocd     string
	pullthru   string
	// The two Argo CD set-ups: "named" serves argocd/plugin.yaml (no discovery rule), "discovery"
	// serves argocd/plugin-discovery.yaml. Each has its own cmp-server, plugins dir and repo-server.
	named, discovery *server
	// file:// URLs of the fixture repositories by name (helm-repo, kustomize-repo, dir-repo, e2e).
	repos map[string]string
}

type server struct {
	name     string
	repoAddr string
	client   apiclient.RepoServerServiceClient
	closer   utilio.Closer
}

type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited (and was reaped)
}

var procs []*proc

func TestMain(m *testing.M) {
	code := 1
	func() {
		defer stopAll()
		if err := setUp(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e set-up failed: %v\n", err)
			for _, p := range procs {
				fmt.Fprintf(os.Stderr, "--- %s log (%s), last lines:\n%s\n", p.name, p.log, tail(p.log, 30))
			}
			return
		}
		code = m.Run()
		if code != 0 {
			for _, p := range procs {
				fmt.Fprintf(os.Stderr, "--- %s log (%s), last lines:\n%s\n", p.name, p.log, tail(p.log, 40))
			}
		}
	}()
	os.Exit(code)
}

func mustEnv(name string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("%s is not set (run scripts/argocd-e2e)", name)
	}
	return v, nil
}

func setUp() error {
	var err error
	for _, v := range []struct {
		dst  *string
		name string
	}{{&env.root, "E2E_ROOT"}, {&env.work, "E2E_WORK"}, {&env.argocd, "E2E_ARGOCD"}, {&env.pullthru, "E2E_PULLTHROUGH"}} {
		if *v.dst, err = mustEnv(v.name); err != nil {
			return err
		}
	}
	for _, tool := range []string{"helm", "kustomize", "jsonnet", "git", "redis-server"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not on PATH: %w", tool, err)
		}
	}
	if err := makeRepos(); err != nil {
		return err
	}
	config, err := sidecarConfig()
	if err != nil {
		return err
	}
	redisPort, err := freePort()
	if err != nil {
		return err
	}
	if _, err := start("redis", nil, "redis-server", "--port", fmt.Sprint(redisPort), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", mkdir("redis")); err != nil {
		return err
	}
	if err := waitTCP(fmt.Sprintf("127.0.0.1:%d", redisPort), 20*time.Second); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	if env.named, err = startArgoCD("named", "argocd/plugin.yaml", config, redisPort); err != nil {
		return err
	}
	if env.discovery, err = startArgoCD("discovery", "argocd/plugin-discovery.yaml", config, redisPort); err != nil {
		return err
	}
	// The real binaries' own version lines, as they log them when they start.
	for _, p := range procs {
		if strings.HasPrefix(p.name, "cmp-server") || strings.HasPrefix(p.name, "repo-server") {
			fmt.Printf("%s: %s\n", p.name, startLine(p.log))
		}
	}
	return nil
}

// sidecarConfig writes the shipped sidecar config (the `config.yaml` key of the ConfigMap in
// argocd/config.yaml) to a file, unchanged.
func sidecarConfig() (string, error) {
	raw, err := os.ReadFile(filepath.Join(env.root, "argocd/config.yaml"))
	if err != nil {
		return "", err
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		return "", fmt.Errorf("argocd/config.yaml: %w", err)
	}
	body, ok := cm.Data["config.yaml"]
	if !ok {
		return "", fmt.Errorf("argocd/config.yaml has no data.config.yaml")
	}
	path := filepath.Join(env.work, "pullthrough-config.yaml")
	return path, os.WriteFile(path, []byte(body), 0o644)
}

// startArgoCD starts a cmp-server serving the plugin file at rel (only the binary path
// substituted) and a repo-server that finds it in the same plugins directory.
func startArgoCD(name, rel, config string, redisPort int) (*server, error) {
	raw, err := os.ReadFile(filepath.Join(env.root, rel))
	if err != nil {
		return nil, err
	}
	const binInImage = "/usr/local/bin/pullthrough"
	if !bytes.Contains(raw, []byte(binInImage)) {
		return nil, fmt.Errorf("%s does not name %s", rel, binInImage)
	}
	configDir := mkdir(name, "cmp-config")
	if err := os.WriteFile(filepath.Join(configDir, "plugin.yaml"), bytes.ReplaceAll(raw, []byte(binInImage), []byte(env.pullthru)), 0o644); err != nil {
		return nil, err
	}
	plugins := mkdir(name, "plugins")
	cmpEnv := []string{
		"ARGOCD_BINARY_NAME=argocd-cmp-server",
		"ARGOCD_PLUGINSOCKFILEPATH=" + plugins,
		"ARGOCD_CMP_WORKDIR=" + mkdir(name, "cmp-work"),
		"PULLTHROUGH_CONFIG=" + config,
		"HOME=" + mkdir(name, "cmp-home"),
	}
	if _, err := start("cmp-server ("+name+")", cmpEnv, env.argocd, "--config-dir-path", configDir, "--loglevel", "info"); err != nil {
		return nil, err
	}
	if err := waitFile(filepath.Join(plugins, "pullthrough.sock"), 60*time.Second); err != nil {
		return nil, fmt.Errorf("cmp-server (%s): %w", name, err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	metrics, err := freePort()
	if err != nil {
		return nil, err
	}
	repoEnv := []string{
		"ARGOCD_BINARY_NAME=argocd-repo-server",
		"ARGOCD_PLUGINSOCKFILEPATH=" + plugins,
		"ARGOCD_GPG_ENABLED=false",
		"ARGOCD_GNUPGHOME=" + mkdir(name, "gpg", "keys"),
		"ARGOCD_GPG_DATA_PATH=" + mkdir(name, "gpg", "source"),
		"ARGOCD_TLS_DATA_PATH=" + mkdir(name, "tls"),
		"ARGOCD_SSH_DATA_PATH=" + mkdir(name, "ssh"),
		"TMPDIR=" + mkdir(name, "repo-tmp"),
		"HOME=" + mkdir(name, "repo-home"),
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if _, err := start("repo-server ("+name+")", repoEnv, env.argocd, "--disable-tls", "--client-ca-path=", "--address", "127.0.0.1",
		"--port", fmt.Sprint(port), "--metrics-address", "127.0.0.1", "--metrics-port", fmt.Sprint(metrics),
		"--redis", fmt.Sprintf("127.0.0.1:%d", redisPort), "--loglevel", "info"); err != nil {
		return nil, err
	}
	if err := waitTCP(addr, 60*time.Second); err != nil {
		return nil, fmt.Errorf("repo-server (%s): %w", name, err)
	}
	closer, client, err := apiclient.NewRepoServerClientset(addr, 120, utiltls.Configuration{DisableTLS: true}).NewRepoServerClient()
	if err != nil {
		return nil, fmt.Errorf("repo-server client (%s): %w", name, err)
	}
	return &server{name: name, repoAddr: addr, client: client, closer: closer}, nil
}

// makeRepos turns each fixture directory into a git repository with one commit.
func makeRepos() error {
	env.repos = map[string]string{}
	sources := map[string]string{
		"helm-repo":      filepath.Join(env.root, "tests/data/repos/helm-repo"),
		"kustomize-repo": filepath.Join(env.root, "tests/data/repos/kustomize-repo"),
		"dir-repo":       filepath.Join(env.root, "tests/data/repos/dir-repo"),
		"e2e":            filepath.Join(env.root, "tests/argocd-e2e/testdata/repo"),
	}
	for name, src := range sources {
		dst := filepath.Join(env.work, "git", name)
		if err := copyTree(src, dst); err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
		for _, args := range [][]string{
			{"init", "-q", "-b", "main"},
			{"add", "-A"},
			{"-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid", "commit", "-q", "-m", "fixture"},
		} {
			cmd := exec.Command("git", args...)
			cmd.Dir = dst
			cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+env.work)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), dst, err, out)
			}
		}
		env.repos[name] = "file://" + dst
	}
	return nil
}

func copyTree(src, dst string) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
}

// start runs argv[0] with the given extra environment in its own process group; its output goes
// to a log file. Pdeathsig kills it if the test binary dies before stopAll runs.
func start(name string, extraEnv []string, argv ...string) (*proc, error) {
	logPath := filepath.Join(mkdir("logs"), strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(name)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Stdin = nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	logFile.Close()
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	procs = append(procs, p)
	return p, nil
}

func stopAll() {
	for _, s := range []*server{env.named, env.discovery} {
		if s != nil && s.closer != nil {
			_ = s.closer.Close()
		}
	}
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		if p.cmd.Process == nil {
			continue
		}
		// The whole group: a component's children (git, helm, pullthrough) go with it.
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
}

func mkdir(parts ...string) string {
	dir := filepath.Join(append([]string{env.work}, parts...)...)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		panic(err)
	}
	return dir
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitTCP(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if err := exited(); err != nil {
			return err
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %s after %s", addr, timeout)
}

func waitFile(path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if err := exited(); err != nil {
			return err
		}
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not appear after %s", path, timeout)
}

// exited reports a started process that is no longer running.
func exited() error {
	for _, p := range procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited early: %v (log %s)", p.name, p.cmd.ProcessState, p.log)
		default:
		}
	}
	return nil
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// startLine is the component's "... is starting" log line, which carries its version.
func startLine(path string) string {
	data, _ := os.ReadFile(path)
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "is starting") {
			return strings.TrimSpace(line)
		}
	}
	return "(no start line in " + path + ")"
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return c
}

func execOutput(argv ...string) ([]byte, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%w: %s", err, stderr.String())
	}
	return out, nil
}
