//! Built-in profiles: opt-in sets of image fields for operators that create pods from images
//! named outside a pod spec (env values, flags, custom-resource fields, ConfigMap data, documents
//! embedded in ConfigMaps). Each is limited to what the project's real chart renders, or what the
//! operator's CRDs define for the resources users write, and each is proven on that chart in
//! `tests/profiles.rs` (renders in `tests/data/charts`, see its README). `profiles: [all]` turns
//! every one on.
//!
//! Left out on purpose (each with its reason, so that `all` stays safe):
//! - MongoDB's `MONGODB_REPO_URL` / `MDB_COMMUNITY_REPO_URL`: the community operator appends
//!   `-ubi8` to the tag only for the official repository URLs, so a mirrored URL changes the
//!   tag (`replica_set_controller.go` `getMongoDBImage`); an admin who mirrors the tags as well can
//!   add an env entry.
//! - Strimzi `KafkaConnect.spec.build.output.image`: where Strimzi *pushes* the image it builds.
//! - Istio's `ProxyConfig.spec.image` (`{imageType: distroless}`, not an image) and istiod's
//!   informational `values` ConfigMap; Kyverno's `defaultRegistry` (the registry it assumes when
//!   it reads policies, not a pull); Linkerd and GitHub's `spec.repository` (not images).
//! - Unproven CRD fields (Grafana `spec.version`, Knative `spec.registry`, Crossplane packages,
//!   whose bare names resolve against Crossplane's registry, not Docker Hub).

use super::fields::{ValueFormat, ValueKind};

/// A field of custom resources or ConfigMaps, by path from the object root.
#[derive(Debug)]
pub struct FieldSpec {
    pub kinds: &'static [&'static str],
    /// The API group; `""`: any group (operators that spread kinds over several groups).
    pub group: &'static str,
    /// Globs on `metadata.name`; empty: any name.
    pub names: &'static [&'static str],
    pub paths: &'static [&'static str],
    pub value: ValueKind,
    /// Only values naming a registry host are images (see `KindField::qualified`).
    pub qualified: bool,
    /// The value is an embedded document; these paths inside it (besides its containers).
    pub embedded: Option<&'static [&'static str]>,
}

/// One profile, as data.
#[derive(Debug)]
pub struct Profile {
    pub name: &'static str,
    /// Where it was proven (chart, version, template).
    pub evidence: &'static str,
    pub fields: &'static [FieldSpec],
    /// Container argument flags followed by an image (`--flag=IMAGE` or `--flag IMAGE`).
    pub args: &'static [(&'static str, ValueKind)],
    /// (env name glob, how the value is read, list format)
    pub env: &'static [(&'static str, ValueKind, ValueFormat)],
}

const fn field(
    kinds: &'static [&'static str],
    group: &'static str,
    paths: &'static [&'static str],
    value: ValueKind,
) -> FieldSpec {
    FieldSpec {
        kinds,
        group,
        names: &[],
        paths,
        value,
        qualified: false,
        embedded: None,
    }
}

const fn data(
    names: &'static [&'static str],
    paths: &'static [&'static str],
    value: ValueKind,
) -> FieldSpec {
    FieldSpec {
        kinds: &["ConfigMap"],
        group: "",
        names,
        paths,
        value,
        qualified: false,
        embedded: None,
    }
}

const fn embedded(
    names: &'static [&'static str],
    paths: &'static [&'static str],
    inner: &'static [&'static str],
    value: ValueKind,
) -> FieldSpec {
    FieldSpec {
        embedded: Some(inner),
        ..data(names, paths, value)
    }
}

const fn qualified(spec: FieldSpec) -> FieldSpec {
    FieldSpec {
        qualified: true,
        ..spec
    }
}

const WHOLE: ValueFormat = ValueFormat {
    separator: None,
    keyed: false,
};
const LINES_KEYED: ValueFormat = ValueFormat {
    separator: Some('\n'),
    keyed: true,
};
const COMMAS: ValueFormat = ValueFormat {
    separator: Some(','),
    keyed: false,
};

use ValueKind::{Image as I, Prefix as P, Repository as R};

pub const PROFILES: &[Profile] = &[
    Profile {
        name: "prometheus-operator",
        evidence: "kube-prometheus-stack 88.5.3: templates/prometheus-operator/deployment.yaml (flags), prometheus/prometheus.yaml, alertmanager/alertmanager.yaml, thanos-ruler/ruler.yaml (spec.image); the CRDs for baseImage",
        fields: &[
            field(&["Prometheus", "Alertmanager", "ThanosRuler", "PrometheusAgent"], "monitoring.coreos.com", &["spec.image"], I),
            field(&["Prometheus"], "monitoring.coreos.com", &["spec.thanos.image"], I),
            // Deprecated, still read by the operator: repositories it adds the version to.
            field(&["Prometheus", "Alertmanager"], "monitoring.coreos.com", &["spec.baseImage"], R),
            field(&["Prometheus"], "monitoring.coreos.com", &["spec.thanos.baseImage"], R),
        ],
        args: &[
            ("--prometheus-config-reloader", I),
            ("--thanos-default-base-image", I),
            ("--prometheus-default-base-image", R),
            ("--alertmanager-default-base-image", R),
        ],
        env: &[],
    },
    Profile {
        name: "cert-manager",
        evidence: "cert-manager v1.21.1: templates/deployment.yaml, the controller's --acme-http01-solver-image flag",
        fields: &[],
        args: &[("--acme-http01-solver-image", I)],
        env: &[],
    },
    Profile {
        name: "argo-workflows",
        evidence: "argo-workflows: templates/controller/workflow-controller-deployment.yaml, --executor-image followed by the image",
        fields: &[],
        args: &[("--executor-image", I)],
        env: &[],
    },
    Profile {
        name: "harbor",
        evidence: "harbor: Trivy's DB repositories in env values (comma-separated repositories, no tag)",
        fields: &[],
        args: &[],
        env: &[("SCANNER_TRIVY_DB_REPOSITORY", R, COMMAS), ("SCANNER_TRIVY_JAVA_DB_REPOSITORY", R, COMMAS)],
    },
    Profile {
        name: "cloudnative-pg",
        evidence: "cloudnative-pg 0.29.0: templates/deployment.yaml (OPERATOR_IMAGE_NAME); cluster 0.8.1: Cluster.spec.imageName, ImageCatalog; plugin-barman-cloud 0.7.0: its ConfigMap's SIDECAR_IMAGE",
        fields: &[
            field(&["Cluster"], "postgresql.cnpg.io", &["spec.imageName"], I),
            field(&["ImageCatalog", "ClusterImageCatalog"], "postgresql.cnpg.io", &["spec.images[].image"], I),
            field(&["Pooler"], "postgresql.cnpg.io", &["spec.pgbouncer.image"], I),
            data(&["*barman-cloud*"], &["data.SIDECAR_IMAGE"], I),
        ],
        args: &[],
        env: &[("OPERATOR_IMAGE_NAME", I, WHOLE)],
    },
    Profile {
        name: "strimzi",
        evidence: "strimzi-kafka-operator 1.2.0: templates/060-Deployment-strimzi-cluster-operator.yaml, _kafka_image_map.tpl (VERSION=IMAGE lines)",
        fields: &[
            field(
                &["Kafka"],
                "kafka.strimzi.io",
                &[
                    "spec.kafka.image",
                    "spec.kafka.brokerRackInitImage",
                    "spec.entityOperator.topicOperator.image",
                    "spec.entityOperator.userOperator.image",
                    "spec.cruiseControl.image",
                    "spec.kafkaExporter.image",
                ],
                I,
            ),
            field(&["KafkaConnect", "KafkaMirrorMaker2", "KafkaBridge"], "kafka.strimzi.io", &["spec.image", "spec.clientRackInitImage"], I),
        ],
        args: &[],
        env: &[
            ("STRIMZI_DEFAULT_*_IMAGE", I, WHOLE),
            // No _IMAGE suffix.
            ("STRIMZI_DEFAULT_MAVEN_BUILDER", I, WHOLE),
            ("STRIMZI_KAFKA_IMAGES", I, LINES_KEYED),
            ("STRIMZI_KAFKA_CONNECT_IMAGES", I, LINES_KEYED),
            ("STRIMZI_KAFKA_MIRROR_MAKER_2_IMAGES", I, LINES_KEYED),
        ],
    },
    Profile {
        name: "longhorn",
        evidence: "longhorn 1.12.1: templates/daemonset-sa.yaml (flags in command, image as the next argument), deployment-driver.yaml (CSI_*_IMAGE)",
        fields: &[],
        args: &[
            ("--engine-image", I),
            ("--instance-manager-image", I),
            ("--share-manager-image", I),
            ("--backing-image-manager-image", I),
            ("--support-bundle-manager-image", I),
            ("--manager-image", I),
        ],
        env: &[("CSI_*_IMAGE", I, WHOLE)],
    },
    Profile {
        name: "rook-ceph",
        evidence: "rook-ceph v1.20.6: templates/configmap.yaml (rook-csi-operator-image-set-configmap); v1.19.10: rook-ceph-operator-config ROOK_CSI_*_IMAGE; rook-ceph-cluster v1.20.6: CephCluster.spec.cephVersion.image",
        fields: &[
            // Generic key names: only in that ConfigMap.
            data(
                &["rook-csi-operator-image-set-configmap"],
                &["data.provisioner", "data.attacher", "data.resizer", "data.snapshotter", "data.registrar", "data.plugin", "data.addons"],
                I,
            ),
            data(
                &["rook-ceph-operator-config"],
                &[
                    "data.ROOK_CSI_CEPH_IMAGE",
                    "data.ROOK_CSI_REGISTRAR_IMAGE",
                    "data.ROOK_CSI_PROVISIONER_IMAGE",
                    "data.ROOK_CSI_SNAPSHOTTER_IMAGE",
                    "data.ROOK_CSI_ATTACHER_IMAGE",
                    "data.ROOK_CSI_RESIZER_IMAGE",
                    "data.ROOK_CSIADDONS_IMAGE",
                ],
                I,
            ),
            field(&["CephCluster"], "ceph.rook.io", &["spec.cephVersion.image"], I),
            field(&["CephNFS"], "ceph.rook.io", &["spec.server.image", "spec.security.sssd.sidecar.image"], I),
            field(&["CephCOSIDriver"], "ceph.rook.io", &["spec.image", "spec.objectProvisionerImage"], I),
            field(&["CephNVMeOFGateway"], "ceph.rook.io", &["spec.image"], I),
        ],
        args: &[],
        env: &[],
    },
    Profile {
        name: "local-path-provisioner",
        evidence: "local-path-provisioner 0.0.37: templates/deployment.yaml (--helper-image, next argument), configmap.yaml (helperPod.yaml, a Pod embedded in the ConfigMap)",
        fields: &[embedded(&["local-path-config"], &["data[\"helperPod.yaml\"]"], &[], I)],
        args: &[("--helper-image", I)],
        env: &[],
    },
    Profile {
        name: "openebs-localpv",
        evidence: "dynamic-localpv-provisioner 4.0.0: templates/deployment.yaml (OPENEBS_IO_HELPER_IMAGE)",
        fields: &[],
        args: &[],
        env: &[("OPENEBS_IO_HELPER_IMAGE", I, WHOLE)],
    },
    Profile {
        name: "zalando-postgres-operator",
        evidence: "postgres-operator 2.0.1: templates/operatorconfiguration.yaml and configmap.yaml (configTarget ConfigMap); the postgresql CRD",
        fields: &[
            field(
                &["OperatorConfiguration"],
                "acid.zalan.do",
                &[
                    "configuration.docker_image",
                    "configuration.logical_backup.logical_backup_docker_image",
                    "configuration.connection_pooler.connection_pooler_image",
                    "configuration.scalyr.scalyr_image",
                ],
                I,
            ),
            field(&["postgresql"], "acid.zalan.do", &["spec.dockerImage", "spec.connectionPooler.dockerImage"], I),
            // The ConfigMap is named after the release.
            data(&[], &["data.docker_image", "data.logical_backup_docker_image", "data.connection_pooler_image"], I),
        ],
        args: &[],
        env: &[],
    },
    Profile {
        name: "mongodb",
        evidence: "community-operator 0.13.0: templates/operator.yaml; mongodb-kubernetes 1.10.0: helm_chart/templates/operator.yaml (incl. RELATED_IMAGE_* of values-openshift.yaml)",
        fields: &[],
        args: &[],
        env: &[
            ("AGENT_IMAGE", I, WHOLE),
            ("VERSION_UPGRADE_HOOK_IMAGE", I, WHOLE),
            ("READINESS_PROBE_IMAGE", I, WHOLE),
            ("MDB_COMMUNITY_AGENT_IMAGE", I, WHOLE),
            ("MDB_ENVOY_IMAGE", I, WHOLE),
            ("MDB_SEARCH_METRICS_FORWARDER_IMAGE", I, WHOLE),
            ("RELATED_IMAGE_*", I, WHOLE),
            ("MONGODB_ENTERPRISE_DATABASE_IMAGE", R, WHOLE),
            ("INIT_DATABASE_IMAGE_REPOSITORY", R, WHOLE),
            ("OPS_MANAGER_IMAGE_REPOSITORY", R, WHOLE),
            ("INIT_OPS_MANAGER_IMAGE_REPOSITORY", R, WHOLE),
            ("MDB_AGENT_IMAGE_REPOSITORY", R, WHOLE),
            ("MDB_SEARCH_REPO_URL", P, WHOLE),
            ("MDB_VOYAGEAI_REPO_URL", P, WHOLE),
        ],
    },
    Profile {
        name: "percona",
        evidence: "psmdb-db 1.22.2, pg-db 3.0.0: templates/cluster.yaml (the operator charts name no operand image)",
        fields: &[
            field(
                &["PerconaServerMongoDB"],
                "psmdb.percona.com",
                &["spec.image", "spec.initImage", "spec.pmm.image", "spec.backup.image", "spec.logcollector.image"],
                I,
            ),
            field(
                &["PerconaPGCluster"],
                "pgv2.percona.com",
                &[
                    "spec.image",
                    "spec.initContainer.image",
                    "spec.instances[].initContainer.image",
                    "spec.proxy.pgBouncer.image",
                    "spec.pmm.image",
                    "spec.backups.pgbackrest.image",
                    "spec.backups.pgbackrest.initContainer.image",
                    "spec.extensions.image",
                ],
                I,
            ),
            field(&["PerconaPGUpgrade"], "pgv2.percona.com", &["spec.image", "spec.toPostgresImage", "spec.toPgBouncerImage", "spec.toPgBackRestImage"], I),
        ],
        args: &[],
        env: &[],
    },
    Profile {
        name: "nvidia-gpu-operator",
        evidence: "gpu-operator v26.7.0: templates/clusterpolicy.yaml, nvidiadriver.yaml, operator.yaml; internal/image/image.go ImagePath: repository/image:version, or image alone as a full reference",
        fields: &[
            // Split repository + image + version: only the repository (a prefix) changes.
            field(&["ClusterPolicy"], "nvidia.com", &["spec.*.repository", "spec.*.*.repository"], P),
            field(&["NVIDIADriver"], "nvidia.com", &["spec.repository", "spec.*.repository"], P),
            // With repository and version empty, image is a full reference; else a bare name.
            qualified(field(&["ClusterPolicy"], "nvidia.com", &["spec.*.image", "spec.*.*.image"], I)),
            qualified(field(&["NVIDIADriver"], "nvidia.com", &["spec.image", "spec.*.image"], I)),
        ],
        args: &[],
        env: &[("DRIVER_MANAGER_IMAGE", I, WHOLE), ("VALIDATOR_IMAGE", I, WHOLE)],
    },
    Profile {
        name: "opentelemetry-operator",
        evidence: "opentelemetry-operator chart 0.122.0: templates/deployment.yaml (--*-image= flags); the CRDs (OpenTelemetryCollector, TargetAllocator, OpAMPBridge, Instrumentation)",
        fields: &[
            field(&["OpenTelemetryCollector"], "opentelemetry.io", &["spec.image", "spec.targetAllocator.image"], I),
            field(&["TargetAllocator", "OpAMPBridge"], "opentelemetry.io", &["spec.image"], I),
            field(
                &["Instrumentation"],
                "opentelemetry.io",
                &[
                    "spec.java.image",
                    "spec.nodejs.image",
                    "spec.python.image",
                    "spec.dotnet.image",
                    "spec.go.image",
                    "spec.apacheHttpd.image",
                    "spec.nginx.image",
                    "spec.java.extensions[].image",
                ],
                I,
            ),
        ],
        args: &[
            ("--collector-image", I),
            ("--target-allocator-image", I),
            ("--operator-opamp-bridge-image", I),
            ("--auto-instrumentation-java-image", I),
            ("--auto-instrumentation-nodejs-image", I),
            ("--auto-instrumentation-python-image", I),
            ("--auto-instrumentation-dotnet-image", I),
            ("--auto-instrumentation-go-image", I),
            ("--auto-instrumentation-apache-httpd-image", I),
            ("--auto-instrumentation-nginx-image", I),
        ],
        env: &[],
    },
    Profile {
        name: "fluent-operator",
        evidence: "fluent-operator 4.3.0: templates/fluentbit-fluentBit.yaml, fluentbit-fluentbit-edge.yaml, fluentd-fluentd.yaml",
        fields: &[
            field(&["FluentBit", "Collector"], "fluentbit.fluent.io", &["spec.image"], I),
            field(&["Fluentd"], "fluentd.fluent.io", &["spec.image"], I),
        ],
        args: &[],
        env: &[],
    },
    Profile {
        name: "trivy-operator",
        evidence: "trivy-operator chart 0.34.0: templates/configmaps/operator.yaml (node.collector.imageRef, policies.bundle.oci.ref), configmaps/trivy.yaml (trivy.repository and the DB repositories)",
        fields: &[
            data(&["*trivy-operator"], &["data[\"node.collector.imageRef\"]", "data[\"policies.bundle.oci.ref\"]"], I),
            data(
                &["*trivy-operator-trivy-config"],
                &[
                    "data[\"trivy.repository\"]",
                    "data[\"trivy.dbRepository\"]",
                    "data[\"trivy.javaDbRepository\"]",
                    // The built-in Trivy server's settings (operator.builtInTrivyServer).
                    "data.TRIVY_DB_REPOSITORY",
                    "data.TRIVY_JAVA_DB_REPOSITORY",
                ],
                R,
            ),
        ],
        args: &[],
        env: &[("TRIVY_DB_REPOSITORY", R, WHOLE), ("TRIVY_JAVA_DB_REPOSITORY", R, WHOLE)],
    },
    Profile {
        name: "actions-runner-controller",
        evidence: "gha-runner-scale-set-controller 0.14.2: templates/deployment.yaml (CONTROLLER_MANAGER_CONTAINER_IMAGE); legacy actions-runner-controller 0.23.7: --docker-image=, --runner-image=",
        fields: &[
            field(&["AutoscalingListener"], "actions.github.com", &["spec.image"], I),
            field(&["Runner", "RunnerSet"], "actions.summerwind.dev", &["spec.image"], I),
            field(&["RunnerDeployment", "RunnerReplicaSet"], "actions.summerwind.dev", &["spec.template.spec.image"], I),
        ],
        args: &[("--docker-image", I), ("--runner-image", I)],
        env: &[("CONTROLLER_MANAGER_CONTAINER_IMAGE", I, WHOLE)],
    },
    Profile {
        name: "istio",
        evidence: "istiod 1.30.3: templates/istiod-injector-configmap.yaml (values, a JSON document: global.hub, global.proxy.image)",
        fields: &[
            embedded(&["istio-sidecar-injector*"], &["data.values"], &["global.hub"], P),
            qualified(embedded(&["istio-sidecar-injector*"], &["data.values"], &["global.proxy.image", "global.proxy_init.image"], I)),
        ],
        args: &[],
        env: &[],
    },
    Profile {
        name: "linkerd",
        evidence: "linkerd-control-plane edge-26.8.3: templates/config.yaml (linkerd-config values, a YAML document)",
        fields: &[embedded(&["linkerd-config"], &["data.values"], &["proxy.image.name", "debugContainer.image.name", "controllerImage"], R)],
        args: &[],
        env: &[],
    },
    Profile {
        name: "vault",
        evidence: "vault-helm 0.34.1: templates/injector-deployment.yaml (AGENT_INJECT_VAULT_IMAGE)",
        fields: &[],
        args: &[],
        env: &[("AGENT_INJECT_VAULT_IMAGE", I, WHOLE)],
    },
    Profile {
        name: "dapr",
        evidence: "dapr 1.18.3: charts/dapr_sidecar_injector/templates/dapr_sidecar_injector_deployment.yaml (SIDECAR_IMAGE)",
        fields: &[],
        args: &[],
        env: &[("SIDECAR_IMAGE", I, WHOLE)],
    },
    Profile {
        name: "jenkins",
        evidence: "jenkins 5.9.53: templates/jcasc-config.yaml (the JCasC file embedded in a ConfigMap; its agent containers)",
        fields: &[embedded(&["*-jenkins-jcasc-config"], &["data[\"jcasc-default-config.yaml\"]"], &[], I)],
        args: &[],
        env: &[],
    },
    Profile {
        name: "elastic-eck",
        evidence: "eck-operator 3.5.0: templates/configmap.yaml (eck.yaml: container-registry); the CRDs' spec.image",
        fields: &[
            embedded(&["elastic-operator"], &["data[\"eck.yaml\"]"], &["container-registry"], P),
            field(
                &["Elasticsearch", "Kibana", "ApmServer", "EnterpriseSearch", "Beat", "Agent", "ElasticMapsServer", "Logstash", "PackageRegistry"],
                "",
                &["spec.image"],
                I,
            ),
        ],
        args: &[],
        env: &[],
    },
    Profile {
        name: "tigera-operator",
        evidence: "tigera-operator (calico v3.32.1): templates/crs/custom-resources.yaml (Installation = .Values.installation); the Installation CRD (registry ends with /)",
        fields: &[field(&["Installation"], "operator.tigera.io", &["spec.registry"], P)],
        args: &[],
        env: &[],
    },
    Profile {
        name: "minio",
        evidence: "minio tenant 7.1.1: helm/tenant/templates/tenant.yaml (spec.image, spec.kes.image)",
        fields: &[field(&["Tenant"], "minio.min.io", &["spec.image", "spec.kes.image"], I)],
        args: &[],
        env: &[],
    },
    Profile {
        name: "velero",
        evidence: "velero 12.1.0: templates/configmaps.yaml with the chart's own fs-restore-action example (values.yaml)",
        fields: &[data(&["*fs-restore-action-config"], &["data.image"], I)],
        args: &[],
        env: &[],
    },
];

/// The README's profile table (`tests/generated.rs` keeps the README in step): one row per
/// profile, what it reads and where it was proven.
pub fn markdown_table() -> String {
    let kind = |v: ValueKind| match v {
        ValueKind::Image => "",
        ValueKind::Repository => " (repository)",
        ValueKind::Prefix => " (prefix)",
    };
    let mut out = String::from("| profile | reads | proven on |\n|---|---|---|\n");
    for p in PROFILES {
        let mut parts: Vec<String> = Vec::new();
        for (name, v, f) in p.env {
            let list = match (f.separator, f.keyed) {
                (Some('\n'), true) => " (`VERSION=IMAGE` lines)",
                (Some(','), false) => " (comma list)",
                _ => "",
            };
            parts.push(format!("env `{name}`{}{list}", kind(*v)));
        }
        for (flag, v) in p.args {
            parts.push(format!("arg `{flag}`{}", kind(*v)));
        }
        for f in p.fields {
            let who = if f.kinds == ["ConfigMap"] && !f.names.is_empty() {
                format!("ConfigMap `{}`", f.names.join("`, `"))
            } else {
                f.kinds.join(", ")
            };
            let paths = f
                .paths
                .iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let what = match f.embedded {
                Some([]) => format!("{who} {paths}: the containers of the document embedded there"),
                Some(inner) => format!(
                    "{who} {paths}: {} inside the document embedded there",
                    inner
                        .iter()
                        .map(|x| format!("`{x}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => format!("{who} {paths}"),
            };
            parts.push(format!(
                "{what}{}{}",
                kind(f.value),
                if f.qualified {
                    " (only with a registry host)"
                } else {
                    ""
                }
            ));
        }
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            p.name,
            parts.join("; "),
            p.evidence
        ));
    }
    out
}

/// The name that turns every profile on.
pub const ALL: &str = "all";

pub fn find(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.name == name)
}
