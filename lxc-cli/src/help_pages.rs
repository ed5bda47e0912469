//! lxc 5.0.2's help texts (cobra `Long` descriptions, usage lines, aliases, examples and
//! flag tables) for the commands this client implements, as the real `lxc <cmd> --help`
//! prints them. Data only; `help.rs` lays them out. Regenerate from the real client when
//! a command is added.

/// The `Global Flags:` table every sub-command shows.
pub const GLOBAL_FLAGS: &str = "      --debug          Show all debug messages\n      --force-local    Force using the local unix socket\n  -h, --help           Print help\n      --project        Override the source project\n  -q, --quiet          Don't show progress information\n      --sub-commands   Use with help or --help to view sub-commands\n  -v, --verbose        Show all information messages\n      --version        Print version number\n";

/// `(command path, description section, usage and following sections)`; `{global}` stands
/// for [`GLOBAL_FLAGS`].
pub const PAGES: &[(&str, &str, &str)] = &[
    (
        "",
        "Description:\n  Command line client for LXD\n\n  All of LXD's features can be driven through the various commands below.\n  For help with any of those, simply call them with --help.",
        "Usage:\n  lxc [command]\n\nAvailable Commands:\n  alias       Manage command aliases\n  cluster     Manage cluster members\n  config      Manage instance and server configuration options\n  console     Attach to instance consoles\n  copy        Copy instances within or in between LXD servers\n  delete      Delete instances and snapshots\n  exec        Execute commands in instances\n  export      Export instance backups\n  file        Manage files in instances\n  help        Help about any command\n  image       Manage images\n  import      Import instance backups\n  info        Show instance or server information\n  launch      Create and start instances from images\n  list        List instances\n  move        Move instances within or in between LXD servers\n  network     Manage and attach instances to networks\n  operation   List, show and delete background operations\n  profile     Manage profiles\n  project     Manage projects\n  publish     Publish instances as images\n  remote      Manage the list of remote servers\n  rename      Rename instances and snapshots\n  restart     Restart instances\n  restore     Restore instances from snapshots\n  snapshot    Create instance snapshots\n  start       Start instances\n  stop        Stop instances\n  storage     Manage storage pools and volumes\n  version     Show local and remote versions\n  warning     Manage warnings\n\nFlags:\n      --all            Show less common commands\n      --debug          Show all debug messages\n      --force-local    Force using the local unix socket\n  -h, --help           Print help\n      --project        Override the source project\n  -q, --quiet          Don't show progress information\n      --sub-commands   Use with help or --help to view sub-commands\n  -v, --verbose        Show all information messages\n      --version        Print version number\n\nUse \"lxc [command] --help\" for more information about a command.\n",
    ),
    (
        "alias",
        "Description:\n  Manage command aliases",
        "Usage:\n  lxc alias [flags]\n  lxc alias [command]\n\nAvailable Commands:\n  add         Add new aliases\n  list        List aliases\n  remove      Remove aliases\n  rename      Rename aliases\n\nGlobal Flags:\n{global}\nUse \"lxc alias [command] --help\" for more information about a command.\n",
    ),
    (
        "alias add",
        "Description:\n  Add new aliases",
        "Usage:\n  lxc alias add <alias> <target> [flags]\n\nExamples:\n  lxc alias add list \"list -c ns46S\"\n      Overwrite the \"list\" command to pass -c ns46S.\n\nGlobal Flags:\n{global}",
    ),
    (
        "alias list",
        "Description:\n  List aliases",
        "Usage:\n  lxc alias list [flags]\n\nAliases:\n  list, ls\n\nFlags:\n  -f, --format   Format (csv|json|table|yaml|compact) (default \"table\")\n\nGlobal Flags:\n{global}",
    ),
    (
        "alias rename",
        "Description:\n  Rename aliases",
        "Usage:\n  lxc alias rename <old alias> <new alias> [flags]\n\nAliases:\n  rename, mv\n\nExamples:\n  lxc alias rename list my-list\n      Rename existing alias \"list\" to \"my-list\".\n\nGlobal Flags:\n{global}",
    ),
    (
        "alias remove",
        "Description:\n  Remove aliases",
        "Usage:\n  lxc alias remove <alias> [flags]\n\nAliases:\n  remove, rm\n\nExamples:\n  lxc alias remove my-list\n      Remove the \"my-list\" alias.\n\nGlobal Flags:\n{global}",
    ),
    (
        "config",
        "Description:\n  Manage instance and server configuration options",
        "Usage:\n  lxc config [flags]\n  lxc config [command]\n\nAvailable Commands:\n  device      Manage devices\n  edit        Edit instance or server configurations as YAML\n  get         Get values for instance or server configuration keys\n  metadata    Manage instance metadata files\n  set         Set instance or server configuration keys\n  show        Show instance or server configurations\n  template    Manage instance file templates\n  trust       Manage trusted clients\n  unset       Unset instance or server configuration keys\n\nGlobal Flags:\n{global}\nUse \"lxc config [command] --help\" for more information about a command.\n",
    ),
    (
        "config edit",
        "Description:\n  Edit instance or server configurations as YAML",
        "Usage:\n  lxc config edit [<remote>:][<instance>[/<snapshot>]] [flags]\n\nExamples:\n  lxc config edit <instance> < instance.yaml\n      Update the instance configuration from config.yaml.\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "config get",
        "Description:\n  Get values for instance or server configuration keys",
        "Usage:\n  lxc config get [<remote>:][<instance>] <key> [flags]\n\nFlags:\n  -e, --expanded   Access the expanded configuration\n      --target     Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "config set",
        "Description:\n  Set instance or server configuration keys\n\n  For backward compatibility, a single configuration key may still be set with:\n      lxc config set [<remote>:][<instance>] <key> <value>",
        "Usage:\n  lxc config set [<remote>:][<instance>] <key>=<value>... [flags]\n\nExamples:\n  lxc config set [<remote>:]<instance> limits.cpu=2\n      Will set a CPU limit of \"2\" for the instance.\n\n  lxc config set core.https_address=[::]:8443\n      Will have LXD listen on IPv4 and IPv6 port 8443.\n\n  lxc config set core.trust_password=blah\n      Will set the server's trust password to blah.\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "config show",
        "Description:\n  Show instance or server configurations",
        "Usage:\n  lxc config show [<remote>:][<instance>[/<snapshot>]] [flags]\n\nFlags:\n  -e, --expanded   Show the expanded configuration\n      --target     Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "config unset",
        "Description:\n  Unset instance or server configuration keys",
        "Usage:\n  lxc config unset [<remote>:][<instance>] <key> [flags]\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "info",
        "Description:\n  Show instance or server information",
        "Usage:\n  lxc info [<remote>:][<instance>] [flags]\n\nExamples:\n  lxc info [<remote>:]<instance> [--show-log]\n      For instance information.\n\n  lxc info [<remote>:] [--resources]\n      For LXD server information.\n\nFlags:\n      --resources   Show the resources available to the server\n      --show-log    Show the instance's last 100 log lines?\n      --target      Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "monitor",
        "Description:\n  Monitor a local or remote LXD server\n\n  By default the monitor will listen to all message types.",
        "Usage:\n  lxc monitor [<remote>:] [flags]\n\nExamples:\n  lxc monitor --type=logging\n      Only show log messages.\n\n  lxc monitor --pretty --type=logging --loglevel=info\n      Show a pretty log of messages with info level or higher.\n\n  lxc monitor --type=lifecycle\n      Only show lifecycle events.\n\nFlags:\n      --all-projects   Show events from all projects\n  -f, --format         Format (json|pretty|yaml) (default \"yaml\")\n      --loglevel       Minimum level for log messages (only available when using pretty format)\n      --pretty         Pretty rendering (short for --format=pretty)\n      --type           Event type to listen for\n\nGlobal Flags:\n{global}",
    ),
    (
        "operation",
        "Description:\n  List, show and delete background operations",
        "Usage:\n  lxc operation [flags]\n  lxc operation [command]\n\nAvailable Commands:\n  delete      Delete a background operation (will attempt to cancel)\n  list        List background operations\n  show        Show details on a background operation\n\nGlobal Flags:\n{global}\nUse \"lxc operation [command] --help\" for more information about a command.\n",
    ),
    (
        "operation delete",
        "Description:\n  Delete a background operation (will attempt to cancel)",
        "Usage:\n  lxc operation delete [<remote>:]<operation> [flags]\n\nAliases:\n  delete, cancel, rm\n\nGlobal Flags:\n{global}",
    ),
    (
        "operation list",
        "Description:\n  List background operations",
        "Usage:\n  lxc operation list [<remote>:] [flags]\n\nAliases:\n  list, ls\n\nFlags:\n  -f, --format   Format (csv|json|table|yaml|compact) (default \"table\")\n\nGlobal Flags:\n{global}",
    ),
    (
        "operation show",
        "Description:\n  Show details on a background operation",
        "Usage:\n  lxc operation show [<remote>:]<operation> [flags]\n\nExamples:\n  lxc operation show 344a79e4-d88a-45bf-9c39-c72c26f6ab8a\n      Show details on that operation UUID\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile",
        "Description:\n  Manage profiles",
        "Usage:\n  lxc profile [flags]\n  lxc profile [command]\n\nAvailable Commands:\n  add         Add profiles to instances\n  assign      Assign sets of profiles to instances\n  copy        Copy profiles\n  create      Create profiles\n  delete      Delete profiles\n  device      Manage devices\n  edit        Edit profile configurations as YAML\n  get         Get values for profile configuration keys\n  list        List profiles\n  remove      Remove profiles from instances\n  rename      Rename profiles\n  set         Set profile configuration keys\n  show        Show profile configurations\n  unset       Unset profile configuration keys\n\nGlobal Flags:\n{global}\nUse \"lxc profile [command] --help\" for more information about a command.\n",
    ),
    (
        "profile copy",
        "Description:\n  Copy profiles",
        "Usage:\n  lxc profile copy [<remote>:]<profile> [<remote>:]<profile> [flags]\n\nAliases:\n  copy, cp\n\nFlags:\n      --target-project   Copy to a project different from the source\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile create",
        "Description:\n  Create profiles",
        "Usage:\n  lxc profile create [<remote>:]<profile> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile delete",
        "Description:\n  Delete profiles",
        "Usage:\n  lxc profile delete [<remote>:]<profile> [flags]\n\nAliases:\n  delete, rm\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile device",
        "Description:\n  Manage devices",
        "Usage:\n  lxc profile device [flags]\n  lxc profile device [command]\n\nAvailable Commands:\n  add         Add instance devices\n  get         Get values for device configuration keys\n  list        List instance devices\n  remove      Remove instance devices\n  set         Set device configuration keys\n  show        Show full device configuration\n  unset       Unset device configuration keys\n\nGlobal Flags:\n{global}\nUse \"lxc profile device [command] --help\" for more information about a command.\n",
    ),
    (
        "profile device add",
        "Description:\n  Add instance devices",
        "Usage:\n  lxc profile device add [<remote>:]<profile> <device> <type> [key=value...] [flags]\n\nExamples:\n  lxc profile device add [<remote>:]profile1 <device-name> disk source=/share/c1 path=/opt\n      Will mount the host's /share/c1 onto /opt in the instance.\n\n  lxc profile device add [<remote>:]profile1 <device-name> disk pool=some-pool source=some-volume path=/opt\n      Will mount the some-volume volume on some-pool onto /opt in the instance.\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile device get",
        "Description:\n  Get values for device configuration keys",
        "Usage:\n  lxc profile device get [<remote>:]<profile> <device> <key> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile device list",
        "Description:\n  List instance devices",
        "Usage:\n  lxc profile device list [<remote>:]<profile> [flags]\n\nAliases:\n  list, ls\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile device remove",
        "Description:\n  Remove instance devices",
        "Usage:\n  lxc profile device remove [<remote>:]<profile> <name>... [flags]\n\nAliases:\n  remove, rm\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile device set",
        "Description:\n  Set device configuration keys\n\n  For backward compatibility, a single configuration key may still be set with:\n      lxc profile device set [<remote>:]<profile> <device> <key> <value>",
        "Usage:\n  lxc profile device set [<remote>:]<profile> <device> <key>=<value>... [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile device show",
        "Description:\n  Show full device configuration",
        "Usage:\n  lxc profile device show [<remote>:]<profile> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile device unset",
        "Description:\n  Unset device configuration keys",
        "Usage:\n  lxc profile device unset [<remote>:]<profile> <device> <key> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile edit",
        "Description:\n  Edit profile configurations as YAML",
        "Usage:\n  lxc profile edit [<remote>:]<profile> [flags]\n\nExamples:\n  lxc profile edit <profile> < profile.yaml\n      Update a profile using the content of profile.yaml\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile get",
        "Description:\n  Get values for profile configuration keys",
        "Usage:\n  lxc profile get [<remote>:]<profile> <key> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile list",
        "Description:\n  List profiles",
        "Usage:\n  lxc profile list [<remote>:] [flags]\n\nAliases:\n  list, ls\n\nFlags:\n  -f, --format   Format (csv|json|table|yaml|compact) (default \"table\")\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile rename",
        "Description:\n  Rename profiles",
        "Usage:\n  lxc profile rename [<remote>:]<profile> <new-name> [flags]\n\nAliases:\n  rename, mv\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile set",
        "Description:\n  Set profile configuration keys\n\n  For backward compatibility, a single configuration key may still be set with:\n      lxc profile set [<remote>:]<profile> <key> <value>",
        "Usage:\n  lxc profile set [<remote>:]<profile> <key><value>... [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile show",
        "Description:\n  Show profile configurations",
        "Usage:\n  lxc profile show [<remote>:]<profile> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "profile unset",
        "Description:\n  Unset profile configuration keys",
        "Usage:\n  lxc profile unset [<remote>:]<profile> <key> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "query",
        "Description:\n  Send a raw query to LXD",
        "Usage:\n  lxc query [<remote>:]<API path> [flags]\n\nExamples:\n  lxc query -X DELETE --wait /1.0/instances/c1\n      Delete local instance \"c1\".\n\nFlags:\n  -d, --data      Input data\n      --raw       Print the raw response\n  -X, --request   Action (defaults to GET) (default \"GET\")\n      --wait      Wait for the operation to complete\n\nGlobal Flags:\n{global}",
    ),
    (
        "remote",
        "Description:\n  Manage the list of remote servers",
        "Usage:\n  lxc remote [flags]\n  lxc remote [command]\n\nAvailable Commands:\n  add         Add new remote servers\n  get-default Show the default remote\n  list        List the available remotes\n  remove      Remove remotes\n  rename      Rename remotes\n  set-url     Set the URL for the remote\n  switch      Switch the default remote\n\nGlobal Flags:\n{global}\nUse \"lxc remote [command] --help\" for more information about a command.\n",
    ),
    (
        "remote add",
        "Description:\n  Add new remote servers\n\n  URL for remote resources must be HTTPS (https://).\n\n  Basic authentication can be used when combined with the \"simplestreams\" protocol:\n    lxc remote add some-name https://LOGIN:PASSWORD@example.com/some/path --protocol=simplestreams",
        "Usage:\n  lxc remote add [<remote>] <IP|FQDN|URL|token> [flags]\n\nFlags:\n      --accept-certificate   Accept certificate\n      --auth-type            Server authentication type (tls or candid)\n      --domain               Candid domain to use\n      --password             Remote admin password\n      --project              Project to use for the remote\n      --protocol             Server protocol (lxd or simplestreams)\n      --public               Public image server\n\nGlobal Flags:\n      --debug          Show all debug messages\n      --force-local    Force using the local unix socket\n  -h, --help           Print help\n  -q, --quiet          Don't show progress information\n      --sub-commands   Use with help or --help to view sub-commands\n  -v, --verbose        Show all information messages\n      --version        Print version number\n",
    ),
    (
        "remote get-default",
        "Description:\n  Show the default remote",
        "Usage:\n  lxc remote get-default [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "remote list",
        "Description:\n  List the available remotes",
        "Usage:\n  lxc remote list [flags]\n\nAliases:\n  list, ls\n\nFlags:\n  -f, --format   Format (csv|json|table|yaml|compact) (default \"table\")\n\nGlobal Flags:\n{global}",
    ),
    (
        "remote remove",
        "Description:\n  Remove remotes",
        "Usage:\n  lxc remote remove <remote> [flags]\n\nAliases:\n  remove, rm\n\nGlobal Flags:\n{global}",
    ),
    (
        "remote rename",
        "Description:\n  Rename remotes",
        "Usage:\n  lxc remote rename <remote> <new-name> [flags]\n\nAliases:\n  rename, mv\n\nGlobal Flags:\n{global}",
    ),
    (
        "remote set-url",
        "Description:\n  Set the URL for the remote",
        "Usage:\n  lxc remote set-url <remote> <URL> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "remote switch",
        "Description:\n  Switch the default remote",
        "Usage:\n  lxc remote switch <remote> [flags]\n\nAliases:\n  switch, set-default\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage",
        "Description:\n  Manage storage pools and volumes",
        "Usage:\n  lxc storage [flags]\n  lxc storage [command]\n\nAvailable Commands:\n  create      Create storage pools\n  delete      Delete storage pools\n  edit        Edit storage pool configurations as YAML\n  get         Get values for storage pool configuration keys\n  info        Show useful information about storage pools\n  list        List available storage pools\n  set         Set storage pool configuration keys\n  show        Show storage pool configurations and resources\n  unset       Unset storage pool configuration keys\n  volume      Manage storage volumes\n\nGlobal Flags:\n{global}\nUse \"lxc storage [command] --help\" for more information about a command.\n",
    ),
    (
        "storage create",
        "Description:\n  Create storage pools",
        "Usage:\n  lxc storage create [<remote>:]<pool> <driver> [key=value...] [flags]\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage delete",
        "Description:\n  Delete storage pools",
        "Usage:\n  lxc storage delete [<remote>:]<pool> [flags]\n\nAliases:\n  delete, rm\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage edit",
        "Description:\n  Edit storage pool configurations as YAML",
        "Usage:\n  lxc storage edit [<remote>:]<pool> [flags]\n\nExamples:\n  lxc storage edit [<remote>:]<pool> < pool.yaml\n      Update a storage pool using the content of pool.yaml.\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage get",
        "Description:\n  Get values for storage pool configuration keys",
        "Usage:\n  lxc storage get [<remote>:]<pool> <key> [flags]\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage info",
        "Description:\n  Show useful information about storage pools",
        "Usage:\n  lxc storage info [<remote>:]<pool> [flags]\n\nFlags:\n      --bytes    Show the used and free space in bytes\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage list",
        "Description:\n  List available storage pools",
        "Usage:\n  lxc storage list [<remote>:] [flags]\n\nAliases:\n  list, ls\n\nFlags:\n  -f, --format   Format (csv|json|table|yaml|compact) (default \"table\")\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage set",
        "Description:\n  Set storage pool configuration keys\n\n  For backward compatibility, a single configuration key may still be set with:\n      lxc storage set [<remote>:]<pool> <key> <value>",
        "Usage:\n  lxc storage set [<remote>:]<pool> <key> <value> [flags]\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage show",
        "Description:\n  Show storage pool configurations and resources",
        "Usage:\n  lxc storage show [<remote>:]<pool> [flags]\n\nFlags:\n      --resources   Show the resources available to the storage pool\n      --target      Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage unset",
        "Description:\n  Unset storage pool configuration keys",
        "Usage:\n  lxc storage unset [<remote>:]<pool> <key> [flags]\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "version",
        "Description:\n  Show local and remote versions",
        "Usage:\n  lxc version [<remote>:] [flags]\n\nGlobal Flags:\n{global}",
    ),
];
