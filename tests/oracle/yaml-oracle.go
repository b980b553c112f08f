// yaml-oracle: prints what Argo CD reads from a manifest stream, one JSON line per document.
//
// Usage: yaml-oracle FILE... ("-" or no argument reads stdin)
//
// It mirrors how Argo CD parses Config Management Plugin output:
// gitops-engine pkg/utils/kube/kube.go SplitYAML, which runs
// k8s.io/apimachinery/pkg/util/yaml.NewYAMLOrJSONDecoder(r, 4096) and, per document,
// decodes into a runtime.RawExtension, trims the raw JSON and skips it when it is
// empty or "null".
//
//   - Stream kind (apimachinery GuessJSONStream): if the first non-whitespace byte
//     (unicode.IsSpace, within the first 4096 bytes) is '{', the input is a stream of
//     concatenated JSON values read with encoding/json's Decoder. Otherwise it is YAML.
//   - YAML splitting (apimachinery YAMLReader + LineReader, reproduced below because
//     Debian does not package apimachinery): lines are read with bufio.Reader.ReadLine,
//     so "\r\n" and "\n" both end a line and every line gets a "\n". A line starting with
//     "---" ends the current document (or, when nothing is buffered yet, is kept in the
//     document, where YAML reads it as a document start). Any text after the "---" other
//     than spaces and a "#" comment is the error "invalid Yaml document separator: ...",
//     which ends the stream: the document being collected is lost, as in Go.
//   - Per document: sigs.k8s.io/yaml.YAMLToJSON (go-yaml v2, YAML 1.1 scalar resolution).
//     JSON documents go through YAMLToJSON too, which is what Argo CD's second step
//     (sigs.k8s.io/yaml.Unmarshal into unstructured) does to them.
//
// Output, per document (compact JSON, one line each):
//
//	{"doc":N,"json":<YAMLToJSON result, raw>}
//	{"doc":N,"error":"<message>"}
//
// N counts, from 0, the documents that are NOT skipped: documents whose trimmed JSON is
// empty or "null" (empty, comment-only, "---" only) are skipped without a line and without
// using a number, so N is the index of the object in the list Argo CD builds. A document
// that fails to convert is not skipped: it gets an error line and uses a number.
// With several FILE arguments each line also carries "file" and N restarts at 0 per file.
//
// Differences from Argo CD, on purpose: Argo CD stops at the first error of any kind;
// the oracle reports a conversion error and continues with the next document (the split
// is line-based, so later documents are unaffected). A separator error, a JSON syntax
// error or a read error ends that file's stream, as in Go.
//
// Exit status: 0 when every input was read (even if documents had errors: the error lines
// carry them); 2 on usage or I/O errors.
//
// Version caveat: built with Debian bookworm's packages (Go 1.19.8, sigs.k8s.io/yaml 1.3.0,
// gopkg.in/yaml.v2 2.4.0). Argo CD uses sigs.k8s.io/yaml 1.6.0 with go.yaml.in/yaml/v2 2.4.4
// (the YAML organisation's continuation of yaml.v2) and apimachinery v0.36.1. Scalar
// resolution is expected to be the same (not verified). Newer apimachinery releases may
// also handle a JSON stream that continues as YAML after a JSON syntax error; the oracle
// does not (it reports the JSON error and stops).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"sigs.k8s.io/yaml"
)

const separator = "---"

// lineReader mirrors apimachinery's LineReader.
type lineReader struct{ reader *bufio.Reader }

func (r *lineReader) Read() ([]byte, error) {
	var (
		isPrefix = true
		err      error
		line     []byte
		buffer   bytes.Buffer
	)
	for isPrefix && err == nil {
		line, isPrefix, err = r.reader.ReadLine()
		buffer.Write(line)
	}
	buffer.WriteByte('\n')
	return buffer.Bytes(), err
}

// yamlReader mirrors apimachinery's YAMLReader.Read.
type yamlReader struct{ reader *lineReader }

type separatorError struct{ msg string }

func (e separatorError) Error() string { return e.msg }

func (r *yamlReader) Read() ([]byte, error) {
	var buffer bytes.Buffer
	for {
		line, err := r.reader.Read()
		if err != nil && err != io.EOF {
			return nil, err
		}
		sep := len([]byte(separator))
		if i := bytes.Index(line, []byte(separator)); i == 0 {
			// A potential document terminator.
			i += sep
			trimmed := strings.TrimSpace(string(line[i:]))
			// Only comments and spaces may follow the separator.
			if len(trimmed) > 0 && string(trimmed[0]) != "#" {
				return nil, separatorError{fmt.Sprintf("invalid Yaml document separator: %s", trimmed)}
			}
			if buffer.Len() != 0 {
				return buffer.Bytes(), nil
			}
			if err == io.EOF {
				return nil, err
			}
		}
		if err == io.EOF {
			if buffer.Len() != 0 {
				return buffer.Bytes(), nil
			}
			return nil, err
		}
		buffer.Write(line)
	}
}

// isJSONStream mirrors apimachinery's GuessJSONStream / hasJSONPrefix (buffer size 4096).
func isJSONStream(data []byte) bool {
	peek := data
	if len(peek) > 4096 {
		peek = peek[:4096]
	}
	return bytes.HasPrefix(bytes.TrimLeftFunc(peek, unicode.IsSpace), []byte("{"))
}

type emitter struct {
	out  *bufio.Writer
	file string // "" when a single input is given
	n    int
}

func (e *emitter) prefix() {
	e.out.WriteString(`{"doc":`)
	fmt.Fprintf(e.out, "%d", e.n)
	if e.file != "" {
		name, _ := json.Marshal(e.file)
		e.out.WriteString(`,"file":`)
		e.out.Write(name)
	}
	e.n++
}

func (e *emitter) errorLine(err error) {
	msg, _ := json.Marshal(err.Error())
	e.prefix()
	e.out.WriteString(`,"error":`)
	e.out.Write(msg)
	e.out.WriteString("}\n")
}

// document converts one raw document (YAML or JSON text) the way Argo CD does.
func (e *emitter) document(raw []byte) {
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		e.errorLine(err)
		return
	}
	j = bytes.TrimSpace(j)
	if len(j) == 0 || bytes.Equal(j, []byte("null")) {
		return // skipped, as gitops-engine SplitYAML does
	}
	e.prefix()
	e.out.WriteString(`,"json":`)
	e.out.Write(j)
	e.out.WriteString("}\n")
}

func process(e *emitter, data []byte) {
	if isJSONStream(data) {
		dec := json.NewDecoder(bytes.NewReader(data))
		for {
			var raw json.RawMessage // runtime.RawExtension.UnmarshalJSON keeps the raw bytes
			err := dec.Decode(&raw)
			if err == io.EOF {
				return
			}
			if err != nil {
				e.errorLine(err)
				return
			}
			raw = bytes.TrimSpace(raw)
			if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
				continue
			}
			e.document(raw)
		}
	}
	r := &yamlReader{reader: &lineReader{reader: bufio.NewReader(bytes.NewReader(data))}}
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			e.errorLine(err)
			return
		}
		e.document(doc)
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
