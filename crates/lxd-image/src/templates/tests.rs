use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;

use super::*;
use crate::metadata::parse_metadata;

fn instance() -> InstanceInfo {
    InstanceInfo {
        name: "c1".into(),
        architecture: "x86_64".into(),
        privileged: false,
        ephemeral: false,
        config: BTreeMap::from([
            ("user.greeting".to_string(), "hello\n".to_string()),
            ("limits.cpu".to_string(), "2".to_string()),
        ]),
        devices: BTreeMap::from([(
            "eth0".to_string(),
            BTreeMap::from([("type".to_string(), "nic".to_string())]),
        )]),
    }
}

fn show(source: &str) -> String {
    let properties = BTreeMap::from([("default".to_string(), "x".to_string())]);
    render(
        source,
        &instance(),
        Trigger::Create,
        "/etc/hostname",
        &properties,
    )
    .unwrap()
}

#[test]
fn render_variables_dotted_access() {
    assert_eq!(
        show("{{ instance.name }}/{{container.name}} {{ trigger }} {{ path }}"),
        "c1/c1 create /etc/hostname"
    );
    assert_eq!(
        show("{{ instance.architecture }} {{ instance.type }}"),
        "x86_64 container"
    );
    assert_eq!(
        show("{{ config.limits.cpu }}|{{ config[\"limits.cpu\"] }}"),
        "|2"
    );
    assert_eq!(
        show("{{ devices.eth0.type }} {{ properties.default }}"),
        "nic x"
    );
    assert_eq!(show("[{{ nothing.here }}]"), "[]");
}

#[test]
fn render_if_else_comparisons_and_truthiness() {
    assert_eq!(
        show("{% if instance.name == \"c1\" %}yes{% else %}no{% endif %}"),
        "yes"
    );
    assert_eq!(
        show("{% if instance.name != \"c1\" %}yes{% else %}no{% endif %}"),
        "no"
    );
    // pongo2: the string "false" is true.
    assert_eq!(
        show("{% if instance.privileged %}t{% else %}f{% endif %}"),
        "t"
    );
    assert_eq!(
        show("{% if instance.privileged == \"false\" %}unpriv{% endif %}"),
        "unpriv"
    );
    assert_eq!(
        show("{% if missing %}a{% elif trigger == \"create\" %}b{% else %}c{% endif %}"),
        "b"
    );
    assert_eq!(
        show("{% if not missing and (1 == 1 or x) %}ok{% endif %}"),
        "ok"
    );
}

#[test]
fn render_for_over_map_sorted_and_list() {
    assert_eq!(
        show("{% for k, v in config %}{{ k }}={{ v|upper }};{% endfor %}"),
        "limits.cpu=2;user.greeting=HELLO\n;"
    );
    assert_eq!(
        show("{% for k in devices %}{{ k }}{% if forloop.Last %}.{% endif %}{% endfor %}"),
        "eth0."
    );
    assert_eq!(
        show("{% for x in nothing %}x{% empty %}none{% endfor %}"),
        "none"
    );
}

#[test]
fn render_filters_default_lower_upper() {
    assert_eq!(show("{{ config.missing|default:\"d\" }}"), "d");
    assert_eq!(
        show("{{ \"MiXed\"|lower }} {{ instance.name|upper }}"),
        "mixed C1"
    );
    assert_eq!(show("{{ true }} {{ 3 }}"), "True 3");
}

#[test]
fn render_config_get_trims_and_defaults() {
    assert_eq!(
        show("{{ config_get(\"user.greeting\", \"none\") }}!"),
        "hello!"
    );
    assert_eq!(show("{{ config_get(\"user.missing\", \"none\") }}"), "none");
}

#[test]
fn render_comments_autoescape_and_trimming() {
    assert_eq!(show("a{# hidden #}b{% comment %}x{% endcomment %}c"), "abc");
    assert_eq!(
        show("{% autoescape off %}<{{ \"&\" }}>{% endautoescape %}"),
        "<&>"
    );
    assert_eq!(show("a  {%- if 1 -%}  b  {%- endif -%}  c"), "abc");
}

#[test]
fn render_syntax_errors_clear() {
    let props = BTreeMap::new();
    let err = render("{% if x %}open", &instance(), Trigger::Start, "/p", &props).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Template syntax error: missing {% endif %}"
    );
    let err = render(
        "{{ x|frobnicate }}",
        &instance(),
        Trigger::Start,
        "/p",
        &props,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Template error: unknown filter \"frobnicate\""
    );
    assert!(render("{% bogus %}", &instance(), Trigger::Start, "/p", &props).is_err());
    assert!(render("{{ unclosed", &instance(), Trigger::Start, "/p", &props).is_err());
}

const METADATA: &str = "architecture: x86_64
creation_date: 1
templates:
  /etc/hostname:
    when: [create, copy]
    template: hostname.tpl
  /etc/hosts:
    when: [create]
    create_only: true
    template: hosts.tpl
    properties:
      domain: lan
  /etc/motd:
    when: [start]
    template: motd.tpl
";

#[test]
fn templates_for_trigger_selects_matching_when() {
    let metadata = parse_metadata(METADATA.as_bytes()).unwrap();
    let paths = |t| {
        templates_for(&metadata, t)
            .into_iter()
            .map(|(p, _)| p.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(paths(Trigger::Create), ["/etc/hostname", "/etc/hosts"]);
    assert_eq!(paths(Trigger::Copy), ["/etc/hostname"]);
    assert_eq!(paths(Trigger::Start), ["/etc/motd"]);
    assert!(paths(Trigger::Rename).is_empty());
}

#[test]
fn pending_trigger_first_one_wins() {
    assert_eq!(pending_trigger(None, Trigger::Create), "create");
    assert_eq!(pending_trigger(Some(""), Trigger::Copy), "copy");
    assert_eq!(pending_trigger(Some("create"), Trigger::Rename), "create");
}

#[test]
fn start_triggers_pending_then_start() {
    assert_eq!(
        start_triggers(Some("copy")).unwrap(),
        [Trigger::Copy, Trigger::Start]
    );
    assert_eq!(start_triggers(None).unwrap(), [Trigger::Start]);
    assert!(start_triggers(Some("explode")).is_err());
}

#[test]
fn should_write_create_only_keeps_existing() {
    let template = ImageMetadataTemplate {
        create_only: true,
        ..ImageMetadataTemplate::default()
    };
    assert!(!should_write(&template, true));
    assert!(should_write(&template, false));
    assert!(should_write(&ImageMetadataTemplate::default(), true));
}

fn setup() -> (tempfile::TempDir, ImageMetadata) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("rootfs/etc")).unwrap();
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    std::fs::write(
        dir.path().join("templates/hostname.tpl"),
        "{{ instance.name }}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("templates/hosts.tpl"),
        "127.0.1.1 {{ instance.name }}.{{ properties.domain }}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("templates/motd.tpl"), "{{ trigger }}\n").unwrap();
    (dir, parse_metadata(METADATA.as_bytes()).unwrap())
}

#[test]
fn apply_templates_create_renders_and_respects_create_only() {
    let (dir, metadata) = setup();
    let rootfs = dir.path().join("rootfs");
    std::fs::write(rootfs.join("etc/hosts"), "keep\n").unwrap();
    let me = std::fs::metadata(dir.path()).unwrap();
    let target = TemplateTarget {
        rootfs: &rootfs,
        templates: &dir.path().join("templates"),
        root_owner: (me.uid(), me.gid()),
    };
    let written = apply_templates(&target, &metadata, Trigger::Create, &instance()).unwrap();
    assert_eq!(written, ["/etc/hostname"]);
    assert_eq!(
        std::fs::read_to_string(rootfs.join("etc/hostname")).unwrap(),
        "c1\n"
    );
    assert_eq!(
        std::fs::read_to_string(rootfs.join("etc/hosts")).unwrap(),
        "keep\n"
    );
    std::fs::remove_file(rootfs.join("etc/hosts")).unwrap();
    apply_templates(&target, &metadata, Trigger::Create, &instance()).unwrap();
    assert_eq!(
        std::fs::read_to_string(rootfs.join("etc/hosts")).unwrap(),
        "127.0.1.1 c1.lan\n"
    );
    assert_eq!(
        std::fs::metadata(rootfs.join("etc/hosts")).unwrap().mode() & 0o777,
        0o644
    );
}

#[test]
fn apply_templates_output_symlink_refused_not_followed() {
    let (dir, metadata) = setup();
    let rootfs = dir.path().join("rootfs");
    let outside = dir.path().join("host-file");
    std::fs::write(&outside, "host\n").unwrap();
    std::fs::remove_dir(rootfs.join("etc")).unwrap();
    std::os::unix::fs::symlink(dir.path(), rootfs.join("etc")).unwrap();
    let target = TemplateTarget {
        rootfs: &rootfs,
        templates: &dir.path().join("templates"),
        root_owner: (0, 0),
    };
    let err = apply_templates(&target, &metadata, Trigger::Copy, &instance()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Failed to apply template hostname.tpl to /etc/hostname"
    );
    assert!(!dir.path().join("hostname").exists());

    std::fs::remove_file(rootfs.join("etc")).unwrap();
    std::fs::create_dir(rootfs.join("etc")).unwrap();
    std::os::unix::fs::symlink(&outside, rootfs.join("etc/hostname")).unwrap();
    apply_templates(&target, &metadata, Trigger::Copy, &instance()).unwrap_err();
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "host\n");
}

#[test]
fn apply_templates_template_name_escaping_refused() {
    let (dir, mut metadata) = setup();
    metadata.templates.get_mut("/etc/motd").unwrap().template = "../../etc/shadow".into();
    let rootfs = dir.path().join("rootfs");
    let target = TemplateTarget {
        rootfs: &rootfs,
        templates: &dir.path().join("templates"),
        root_owner: (0, 0),
    };
    let err = apply_templates(&target, &metadata, Trigger::Start, &instance()).unwrap_err();
    let TemplateError::Apply { source, .. } = err else {
        panic!()
    };
    assert!(matches!(*source, TemplateError::BadTemplateName(_)));
}
