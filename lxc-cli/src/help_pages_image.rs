//! lxc 5.0.2's help texts for `lxc image` and its sub-commands, as the real
//! `lxc image ... --help` prints them.
//! Data only; `help.rs` lays them out.

/// `(command path, description section, usage and following sections)`; `{global}` stands
/// for the global flags table.
pub const IMAGE_PAGES: &[(&str, &str, &str)] = &[
    (
        "image",
        "Description:\n  Manage images\n\n  In LXD instances are created from images. Those images were themselves\n  either generated from an existing instance or downloaded from an image\n  server.\n\n  When using remote images, LXD will automatically cache images for you\n  and remove them upon expiration.\n\n  The image unique identifier is the hash (sha-256) of its representation\n  as a compressed tarball (or for split images, the concatenation of the\n  metadata and rootfs tarballs).\n\n  Images can be referenced by their full hash, shortest unique partial\n  hash or alias name (if one is set).",
        "Usage:\n  lxc image [flags]\n  lxc image [command]\n\nAvailable Commands:\n  alias          Manage image aliases\n  copy           Copy images between servers\n  delete         Delete images\n  edit           Edit image properties\n  export         Export and download images\n  get-property   Get image properties\n  import         Import images into the image store\n  info           Show useful information about images\n  list           List images\n  refresh        Refresh images\n  set-property   Set image properties\n  show           Show image properties\n  unset-property Unset image properties\n\nGlobal Flags:\n{global}\nUse \"lxc image [command] --help\" for more information about a command.\n",
    ),
    (
        "image alias",
        "Description:\n  Manage image aliases",
        "Usage:\n  lxc image alias [flags]\n  lxc image alias [command]\n\nAvailable Commands:\n  create      Create aliases for existing images\n  delete      Delete image aliases\n  list        List image aliases\n  rename      Rename aliases\n\nGlobal Flags:\n{global}\nUse \"lxc image alias [command] --help\" for more information about a command.\n",
    ),
    (
        "image alias create",
        "Description:\n  Create aliases for existing images",
        "Usage:\n  lxc image alias create [<remote>:]<alias> <fingerprint> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "image alias delete",
        "Description:\n  Delete image aliases",
        "Usage:\n  lxc image alias delete [<remote>:]<alias> [flags]\n\nAliases:\n  delete, rm\n\nGlobal Flags:\n{global}",
    ),
    (
        "image alias list",
        "Description:\n  List image aliases\n\n  Filters may be part of the image hash or part of the image alias name.",
        "Usage:\n  lxc image alias list [<remote>:] [<filters>...] [flags]\n\nAliases:\n  list, ls\n\nFlags:\n  -f, --format   Format (csv|json|table|yaml|compact) (default \"table\")\n\nGlobal Flags:\n{global}",
    ),
    (
        "image alias rename",
        "Description:\n  Rename aliases",
        "Usage:\n  lxc image alias rename [<remote>:]<alias> <new-name> [flags]\n\nAliases:\n  rename, mv\n\nGlobal Flags:\n{global}",
    ),
    (
        "image copy",
        "Description:\n  Copy images between servers\n\n  The auto-update flag instructs the server to keep this image up to date.\n  It requires the source to be an alias and for it to be public.",
        "Usage:\n  lxc image copy [<remote>:]<image> <remote>: [flags]\n\nAliases:\n  copy, cp\n\nFlags:\n      --alias            New aliases to add to the image\n      --auto-update      Keep the image up to date after initial copy\n      --copy-aliases     Copy aliases from source\n      --mode             Transfer mode. One of pull (default), push or relay (default \"pull\")\n      --public           Make image public\n      --target-project   Copy to a project different from the source\n      --vm               Copy virtual machine images\n\nGlobal Flags:\n{global}",
    ),
    (
        "image delete",
        "Description:\n  Delete images",
        "Usage:\n  lxc image delete [<remote>:]<image> [[<remote>:]<image>...] [flags]\n\nAliases:\n  delete, rm\n\nGlobal Flags:\n{global}",
    ),
    (
        "image edit",
        "Description:\n  Edit image properties",
        "Usage:\n  lxc image edit [<remote>:]<image> [flags]\n\nExamples:\n  lxc image edit <image>\n      Launch a text editor to edit the properties\n\n  lxc image edit <image> < image.yaml\n      Load the image properties from a YAML file\n\nGlobal Flags:\n{global}",
    ),
    (
        "image export",
        "Description:\n  Export and download images\n\n  The output target is optional and defaults to the working directory.",
        "Usage:\n  lxc image export [<remote>:]<image> [<target>] [flags]\n\nFlags:\n      --vm   Query virtual machine images\n\nGlobal Flags:\n{global}",
    ),
    (
        "image get-property",
        "Description:\n  Get image properties",
        "Usage:\n  lxc image get-property [<remote>:]<image> <key> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "image import",
        "Description:\n  Import image into the image store\n\n  Directory import is only available on Linux and must be performed as root.",
        "Usage:\n  lxc image import <tarball>|<directory>|<URL> [<rootfs tarball>] [<remote>:] [key=value...] [flags]\n\nFlags:\n      --alias    New aliases to add to the image\n      --public   Make image public\n\nGlobal Flags:\n{global}",
    ),
    (
        "image info",
        "Description:\n  Show useful information about images",
        "Usage:\n  lxc image info [<remote>:]<image> [flags]\n\nFlags:\n      --vm   Query virtual machine images\n\nGlobal Flags:\n{global}",
    ),
    (
        "image list",
        "Description:\n  List images\n\n  Filters may be of the <key>=<value> form for property based filtering,\n  or part of the image hash or part of the image alias name.\n\n  The -c option takes a (optionally comma-separated) list of arguments\n  that control which image attributes to output when displaying in table\n  or csv format.\n\n  Default column layout is: lfpdasu\n\n  Column shorthand chars:\n\n      l - Shortest image alias (and optionally number of other aliases)\n      L - Newline-separated list of all image aliases\n      f - Fingerprint (short)\n      F - Fingerprint (long)\n      p - Whether image is public\n      d - Description\n      a - Architecture\n      s - Size\n      u - Upload date\n      t - Type",
        "Usage:\n  lxc image list [<remote>:] [<filter>...] [flags]\n\nAliases:\n  list, ls\n\nFlags:\n  -c, --columns   Columns (default \"lfpdatsu\")\n  -f, --format    Format (csv|json|table|yaml|compact) (default \"table\")\n\nGlobal Flags:\n{global}",
    ),
    (
        "image refresh",
        "Description:\n  Refresh images",
        "Usage:\n  lxc image refresh [<remote>:]<image> [[<remote>:]<image>...] [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "image set-property",
        "Description:\n  Set image properties",
        "Usage:\n  lxc image set-property [<remote>:]<image> <key> <value> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "image show",
        "Description:\n  Show image properties",
        "Usage:\n  lxc image show [<remote>:]<image> [flags]\n\nFlags:\n      --vm   Query virtual machine images\n\nGlobal Flags:\n{global}",
    ),
    (
        "image unset-property",
        "Description:\n  Unset image properties",
        "Usage:\n  lxc image unset-property [<remote>:]<image> <key> [flags]\n\nGlobal Flags:\n{global}",
    ),
];
