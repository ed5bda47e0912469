//! lxc 5.0.2's help texts for the instance commands (`init`, `launch`, `start`, `stop`,
//! `restart`, `pause`, `delete`, `list`, `exec`, `rename`), `config device` and `profile
//! add|assign|remove`, as the real `lxc <cmd> --help` prints them. Data only; `help.rs` lays
//! them out. Generated from the real client.

/// `(command path, description section, usage and following sections)`; `{global}` stands
/// for the global flags table.
pub const INSTANCE_PAGES: &[(&str, &str, &str)] = &[
    (
        "init",
        "Description:\n  Create instances from images",
        "Usage:\n  lxc init [<remote>:]<image> [<remote>:][<name>] [flags]\n\nExamples:\n  lxc init ubuntu:22.04 u1\n\n  lxc init ubuntu:22.04 u1 < config.yaml\n      Create the instance with configuration from config.yaml\n\nFlags:\n  -c, --config        Config key/value to apply to the new instance\n  -d, --device        New key/value to apply to a specific device\n      --empty         Create an empty instance\n  -e, --ephemeral     Ephemeral instance\n  -n, --network       Network name\n      --no-profiles   Create the instance with no profiles applied\n  -p, --profile       Profile to apply to the new instance\n  -s, --storage       Storage pool name\n      --target        Cluster member name\n  -t, --type          Instance type\n      --vm            Create a virtual machine\n\nGlobal Flags:\n{global}",
    ),
    (
        "launch",
        "Description:\n  Create and start instances from images",
        "Usage:\n  lxc launch [<remote>:]<image> [<remote>:][<name>] [flags]\n\nExamples:\n  lxc launch ubuntu:22.04 u1\n\n  lxc launch ubuntu:22.04 u1 < config.yaml\n      Create and start a container with configuration from config.yaml\n\n  lxc launch ubuntu:22.04 v1 --vm\n      Create and start a virtual machine\n\nFlags:\n  -c, --config                Config key/value to apply to the new instance\n      --console[=\"console\"]   Immediately attach to the console\n  -d, --device                New key/value to apply to a specific device\n      --empty                 Create an empty instance\n  -e, --ephemeral             Ephemeral instance\n  -n, --network               Network name\n      --no-profiles           Create the instance with no profiles applied\n  -p, --profile               Profile to apply to the new instance\n  -s, --storage               Storage pool name\n      --target                Cluster member name\n  -t, --type                  Instance type\n      --vm                    Create a virtual machine\n\nGlobal Flags:\n{global}",
    ),
    (
        "start",
        "Description:\n  Start instances",
        "Usage:\n  lxc start [<remote>:]<instance> [[<remote>:]<instance>...] [flags]\n\nFlags:\n      --all                   Run against all instances\n      --console[=\"console\"]   Immediately attach to the console\n      --stateless             Ignore the instance state\n\nGlobal Flags:\n{global}",
    ),
    (
        "stop",
        "Description:\n  Stop instances",
        "Usage:\n  lxc stop [<remote>:]<instance> [[<remote>:]<instance>...] [flags]\n\nFlags:\n      --all                   Run against all instances\n      --console[=\"console\"]   Immediately attach to the console\n  -f, --force                 Force the instance to shutdown\n      --stateful              Store the instance state\n      --timeout               Time to wait for the instance before killing it (default -1)\n\nGlobal Flags:\n{global}",
    ),
    (
        "restart",
        "Description:\n  Restart instances\n\n  The opposite of \"lxc pause\" is \"lxc start\".",
        "Usage:\n  lxc restart [<remote>:]<instance> [[<remote>:]<instance>...] [flags]\n\nFlags:\n      --all                   Run against all instances\n      --console[=\"console\"]   Immediately attach to the console\n  -f, --force                 Force the instance to shutdown\n      --timeout               Time to wait for the instance before killing it (default -1)\n\nGlobal Flags:\n{global}",
    ),
    (
        "pause",
        "Description:\n  Pause instances",
        "Usage:\n  lxc pause [<remote>:]<instance> [[<remote>:]<instance>...] [flags]\n\nFlags:\n      --all   Run against all instances\n\nGlobal Flags:\n{global}",
    ),
    (
        "delete",
        "Description:\n  Delete instances and snapshots",
        "Usage:\n  lxc delete [<remote>:]<instance>[/<snapshot>] [[<remote>:]<instance>[/<snapshot>]...] [flags]\n\nAliases:\n  delete, rm\n\nFlags:\n  -f, --force         Force the removal of running instances\n  -i, --interactive   Require user confirmation\n\nGlobal Flags:\n{global}",
    ),
    (
        "list",
        "Description:\n  List instances\n\n  Default column layout: ns46tS\n  Fast column layout: nsacPt\n\n  A single keyword like \"web\" which will list any instance with a name starting by \"web\".\n  A regular expression on the instance name. (e.g. .*web.*01$).\n  A key/value pair referring to a configuration item. For those, the\n  namespace can be abbreviated to the smallest unambiguous identifier.\n  A key/value pair where the key is a shorthand. Multiple values must be delimited by ','. Available shorthands:\n    - type={instance type}\n    - status={instance current lifecycle status}\n    - architecture={instance architecture}\n    - location={location name}\n    - ipv4={ip or CIDR}\n    - ipv6={ip or CIDR}\n\n  Examples:\n    - \"user.blah=abc\" will list all instances with the \"blah\" user property set to \"abc\".\n    - \"u.blah=abc\" will do the same\n    - \"security.privileged=true\" will list all privileged instances\n    - \"s.privileged=true\" will do the same\n    - \"type=container\" will list all container instances\n    - \"type=container status=running\" will list all running container instances\n\n  A regular expression matching a configuration item or its value. (e.g. volatile.eth0.hwaddr=00:16:3e:.*).\n\n  When multiple filters are passed, they are added one on top of the other,\n  selecting instances which satisfy them all.\n\n  == Columns ==\n  The -c option takes a comma separated list of arguments that control\n  which instance attributes to output when displaying in table or csv\n  format.\n\n  Column arguments are either pre-defined shorthand chars (see below),\n  or (extended) config keys.\n\n  Commas between consecutive shorthand chars are optional.\n\n  Pre-defined column shorthand chars:\n    4 - IPv4 address\n    6 - IPv6 address\n    a - Architecture\n    b - Storage pool\n    c - Creation date\n    d - Description\n    D - disk usage\n    e - Project name\n    l - Last used date\n    m - Memory usage\n    M - Memory usage (%)\n    n - Name\n    N - Number of Processes\n    p - PID of the instance's init process\n    P - Profiles\n    s - State\n    S - Number of snapshots\n    t - Type (persistent or ephemeral)\n    u - CPU usage (in seconds)\n    L - Location of the instance (e.g. its cluster member)\n    f - Base Image Fingerprint (short)\n    F - Base Image Fingerprint (long)\n\n  Custom columns are defined with \"[config:|devices:]key[:name][:maxWidth]\":\n    KEY: The (extended) config or devices key to display. If [config:|devices:] is omitted then it defaults to config key.\n    NAME: Name to display in the column header.\n    Defaults to the key if not specified or empty.\n\n    MAXWIDTH: Max width of the column (longer results are truncated).\n    Defaults to -1 (unlimited). Use 0 to limit to the column header size.",
        "Usage:\n  lxc list [<remote>:] [<filter>...] [flags]\n\nAliases:\n  list, ls\n\nExamples:\n  lxc list -c nFs46,volatile.eth0.hwaddr:MAC,config:image.os,devices:eth0.parent:ETHP\n    Show instances using the \"NAME\", \"BASE IMAGE\", \"STATE\", \"IPV4\", \"IPV6\" and \"MAC\" columns.\n    \"BASE IMAGE\", \"MAC\" and \"IMAGE OS\" are custom columns generated from instance configuration keys.\n    \"ETHP\" is a custom column generated from a device key.\n\n  lxc list -c ns,user.comment:comment\n    List instances with their running state and user comment.\n\nFlags:\n      --all-projects   Display instances from all projects\n  -c, --columns        Columns (default \"ns46tSL\")\n      --fast           Fast mode (same as --columns=nsacPt)\n  -f, --format         Format (csv|json|table|yaml|compact) (default \"table\")\n\nGlobal Flags:\n{global}",
    ),
    (
        "console",
        "Description:\n  Attach to instance consoles\n\n  This command allows you to interact with the boot console of an instance\n  as well as retrieve past log entries from it.",
        "Usage:\n  lxc console [<remote>:]<instance> [flags]\n\nFlags:\n      --show-log   Retrieve the instance's console log\n  -t, --type       Type of connection to establish: 'console' for serial console, 'vga' for SPICE graphical output (default \"console\")\n\nGlobal Flags:\n{global}",
    ),
    (
        "exec",
        "Description:\n  Execute commands in instances\n\n  The command is executed directly using exec, so there is no shell and\n  shell patterns (variables, file redirects, ...) won't be understood.\n  If you need a shell environment you need to execute the shell\n  executable, passing the shell commands as arguments, for example:\n\n    lxc exec <instance> -- sh -c \"cd /tmp && pwd\"\n\n  Mode defaults to non-interactive, interactive mode is selected if both stdin AND stdout are terminals (stderr is ignored).",
        "Usage:\n  lxc exec [<remote>:]<instance> [flags] [--] <command line>\n\nFlags:\n      --cwd                    Directory to run the command in (default /root)\n  -n, --disable-stdin          Disable stdin (reads from /dev/null)\n      --env                    Environment variable to set (e.g. HOME=/home/foo)\n  -t, --force-interactive      Force pseudo-terminal allocation\n  -T, --force-noninteractive   Disable pseudo-terminal allocation\n      --group                  Group ID to run the command as (default 0)\n      --mode                   Override the terminal mode (auto, interactive or non-interactive) (default \"auto\")\n      --user                   User ID to run the command as (default 0)\n\nGlobal Flags:\n{global}",
    ),
    (
        "rename",
        "Description:\n  Rename instances and snapshots",
        "Usage:\n  lxc rename [<remote>:]<instance>[/<snapshot>] <instance>[/<snapshot>] [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "config device",
        "Description:\n  Manage devices",
        "Usage:\n  lxc config device [flags]\n  lxc config device [command]\n\nAvailable Commands:\n  add         Add instance devices\n  get         Get values for device configuration keys\n  list        List instance devices\n  override    Copy profile inherited devices and override configuration keys\n  remove      Remove instance devices\n  set         Set device configuration keys\n  show        Show full device configuration\n  unset       Unset device configuration keys\n\nGlobal Flags:\n{global}\nUse \"lxc config device [command] --help\" for more information about a command.\n",
    ),
    (
        "config device add",
        "Description:\n  Add instance devices",
        "Usage:\n  lxc config device add [<remote>:]<instance> <device> <type> [key=value...] [flags]\n\nExamples:\n  lxc config device add [<remote>:]instance1 <device-name> disk source=/share/c1 path=/opt\n      Will mount the host's /share/c1 onto /opt in the instance.\n\n  lxc config device add [<remote>:]instance1 <device-name> disk pool=some-pool source=some-volume path=/opt\n      Will mount the some-volume volume on some-pool onto /opt in the instance.\n\nGlobal Flags:\n{global}",
    ),
    (
        "config device get",
        "Description:\n  Get values for device configuration keys",
        "Usage:\n  lxc config device get [<remote>:]<instance> <device> <key> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "config device list",
        "Description:\n  List instance devices",
        "Usage:\n  lxc config device list [<remote>:]<instance> [flags]\n\nAliases:\n  list, ls\n\nGlobal Flags:\n{global}",
    ),
    (
        "config device override",
        "Description:\n  Copy profile inherited devices and override configuration keys",
        "Usage:\n  lxc config device override [<remote>:]<instance> <device> [key=value...] [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "config device remove",
        "Description:\n  Remove instance devices",
        "Usage:\n  lxc config device remove [<remote>:]<instance> <name>... [flags]\n\nAliases:\n  remove, rm\n\nGlobal Flags:\n{global}",
    ),
    (
        "config device set",
        "Description:\n  Set device configuration keys\n\n  For backward compatibility, a single configuration key may still be set with:\n      lxc config device set [<remote>:]<instance> <device> <key> <value>",
        "Usage:\n  lxc config device set [<remote>:]<instance> <device> <key>=<value>... [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "config device show",
        "Description:\n  Show full device configuration",
        "Usage:\n  lxc config device show [<remote>:]<instance> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "config device unset",
        "Description:\n  Unset device configuration keys",
        "Usage:\n  lxc config device unset [<remote>:]<instance> <device> <key> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile add",
        "Description:\n  Add profiles to instances",
        "Usage:\n  lxc profile add [<remote>:]<instance> <profile> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile assign",
        "Description:\n  Assign sets of profiles to instances",
        "Usage:\n  lxc profile assign [<remote>:]<instance> <profiles> [flags]\n\nAliases:\n  assign, apply\n\nExamples:\n  lxc profile assign foo default,bar\n      Set the profiles for \"foo\" to \"default\" and \"bar\".\n\n  lxc profile assign foo default\n      Reset \"foo\" to only using the \"default\" profile.\n\n  lxc profile assign foo ''\n      Remove all profile from \"foo\"\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile remove",
        "Description:\n  Remove profiles from instances",
        "Usage:\n  lxc profile remove [<remote>:]<instance> <profile> [flags]\n\nGlobal Flags:\n{global}",
    ),
];
