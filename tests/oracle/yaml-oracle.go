// yaml-oracle: prints what Argo CD reads from a manifest stream, one JSON line per document.
//
// Usage: yaml-oracle FILE... ("-" or no argument reads stdin)
//
// It reads the stream with the very code Argo CD v3.5.1 runs on Config Management Plugin
// output, at the module versions of Argo CD v3.5.1's go.mod (this module's go.mod pins them;
// scripts/install-tools refuses a build whose versions differ): gitops-engine
// pkg/utils/kube SplitYAMLToString, i.e. k8s.io/apimachinery/pkg/util/yaml
// NewYAMLOrJSONDecoder(r, 4096) decoding one runtime.RawExtension per document (YAML
// documents go through sigs.k8s.io/yaml, go-yaml v2, YAML 1.1 scalar resolution), the raw
// JSON trimmed, empty and "null" documents skipped; then, per document, SplitYAML's second
// step, sigs.k8s.io/yaml.Unmarshal into an unstructured.Unstructured.
//
// Output, per document (compact JSON, one line each):
//
//	{"doc":N,"json":<the document as JSON: sigs.k8s.io/yaml.YAMLToJSON of the RawExtension>}
//	{"doc":N,"json":<...>,"unstructured_error":"<message>"}   second step refused it
//	{"doc":N,"error":"<message>"}                             the decoder refused it
//
// N counts, from 0, the documents that are NOT skipped, so N is the index of the object in
// the list Argo CD builds. A document whose conversion fails gets an error line and uses a
// number. With several FILE arguments each line also carries "file" and N restarts at 0 per
// file.
//
// Differences from Argo CD, on purpose: Argo CD stops at the first error of any kind. The
// oracle continues after a per-document YAML conversion error (apimachinery's YAMLSyntaxError:
// the line-based splitter has already moved past that document, so later documents are read
// exactly as they would be) and after an unstructured_error; any other error (a document
// separator with text after it, a JSON syntax error, a read error) ends that file's stream,
// as in Go.
//
// Exit status: 0 when every input was read (even if documents had errors: the lines carry
// them); 2 on usage or I/O errors.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

type emitter struct {
	out  *bufio.Writer
	file string // "" when a single input is given
	n    int
}

func (e *emitter) line(fields ...any) {
	e.out.WriteString(`{"doc":`)
	fmt.Fprintf(e.out, "%d", e.n)
	e.n++
	if e.file != "" {
		e.field("file", e.file)
	}
	for i := 0; i < len(fields); i += 2 {
		e.field(fields[i].(string), fields[i+1])
	}
	e.out.WriteString("}\n")
}

func (e *emitter) field(name string, value any) {
	e.out.WriteString(`,"` + name + `":`)
	if raw, ok := value.(json.RawMessage); ok {
		e.out.Write(raw)
		return
	}
	b, _ := json.Marshal(value)
	e.out.Write(b)
}

func process(e *emitter, data []byte) {
	d := kubeyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		ext := runtime.RawExtension{}
		err := d.Decode(&ext)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			e.line("error", "failed to unmarshal manifest: "+err.Error())
			var syntax kubeyaml.YAMLSyntaxError
			if errors.As(err, &syntax) {
				continue
			}
			return
		}
		raw := bytes.TrimSpace(ext.Raw)
		if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
			continue
		}
		// SplitYAML's second step, yaml.Unmarshal(raw, u), is YAMLToJSON then a JSON decode: the
		// JSON printed is that conversion (for a JSON stream this is where go-yaml reads the
		// document), the decode into an Unstructured may still refuse it (no kind, not an object).
		j, err := yaml.YAMLToJSON(raw)
		if err != nil {
			e.line("error", "failed to unmarshal manifest: "+err.Error())
			continue
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(raw, u); err != nil {
			e.line("json", json.RawMessage(j), "unstructured_error", "failed to unmarshal manifest: "+err.Error())
			continue
		}
		e.line("json", json.RawMessage(j))
	}
}

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		args = []string{"-"}
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	status := 0
	for _, name := range args {
		var data []byte
		var err error
		if name == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(name)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "yaml-oracle: %v\n", err)
			status = 2
			continue
		}
		e := &emitter{out: out}
		if len(args) > 1 {
			e.file = name
		}
		process(e, data)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "yaml-oracle: writing output: %v\n", err)
		os.Exit(2)
	}
	os.Exit(status)
}
