# Sourced by compare-with-real.sh: snapshots, restore, copy, move, publish, files, export and
# import. Everything lives on its own dir pool (cmp-tpool) and is deleted at the end.
T=$W/tree; mkdir -p "$T/sub/deep"
printf 'hello\n' >"$T/a.txt"; chmod 0640 "$T/a.txt"
printf 'x' >"$T/sub/b.bin"; chmod 0600 "$T/sub/b.bin"; chmod 0711 "$T/sub/deep"
ln -sf a.txt "$T/link"; chown 1000:1000 "$T/sub/b.bin" 2>/dev/null
printf 'from stdin\n' >"$W/fstdin.txt"
run - storage create cmp-tpool dir
run - image import "$W/inst.tar.gz" --alias cmp-tinst -q
run - init cmp-tinst cmp-t1 -s cmp-tpool -q
run - snapshot cmp-t1
run - snapshot cmp-t1 s1
run - snapshot cmp-t1 s1
run - snapshot cmp-t1 s1 --reuse
run - snapshot cmp-t1/s2
run - snapshot cmp-t1/s3 x
run - snapshot cmp-t1 --no-expiry s4
run - snapshot cmp-t1 "a b"
run - snapshot nosuch
run - snapshot
run - snapshot a b c
run - info cmp-t1
run - restore cmp-t1 snap0
run - restore cmp-t1 cmp-t1/s1
run - restore cmp-t1 nope
run - restore nosuch s1
run - restore cmp-t1
run - copy cmp-t1 cmp-t2
run - copy cmp-t1/s1 cmp-t3 -c user.a=1 -e
run - copy cmp-t1 cmp-t4 --instance-only --no-profiles -s cmp-tpool -d root,size=1GB
run - copy cmp-t1/s1 cmp-t5 --instance-only
run - copy cmp-t1 cmp-t5 --refresh --no-profiles
run - copy cmp-t1/s1 cmp-t5 --refresh
run - copy cmp-t1 cmp-t2
run - copy nosuch cmp-t5
run - copy cmp-t1 nope:cmp-t5
run - copy cmp-t1 cmp-t5 -c bad
run - copy cmp-t1 cmp-t5 -d bad
run - copy cmp-t1 cmp-t5 --target x
run - copy cmp-t1 cmp-t5 -p nosuch
run - copy
run - list cmp-t -c nsSt
run - config show cmp-t3
run - config show cmp-t4
run - move cmp-t2 cmp-t6
run - move cmp-t6
run - move cmp-t6 cmp-t2 -c a=b
run - move cmp-t6/s1 cmp-t6/s7
run - move cmp-t6/s7 cmp-t1/s1
run - move cmp-t6/s7 cmp-t6
run - move nosuch cmp-t7
run - move cmp-t6 nope:cmp-t7
run - move cmp-t6 cmp-t12 --target x
run - list cmp-t -c nsS
run - start cmp-t1
run - move cmp-t1 cmp-t8
run - file push "$T/a.txt" cmp-t1/root/
run - file push "$T/a.txt" cmp-t1/root/b.txt --mode 600 --uid 5 --gid 6
run - file push "$T/a.txt" cmp-t1/opt/x/y/a.txt -p
run - file push "$T/a.txt" "$T/link" cmp-t1/root
run - file push "$T/nope" cmp-t1/root/
run - file push "$T/a.txt" cmp-t1
run - file push -r "$T" cmp-t1/srv
run - file push -r "$T" cmp-t1/srv2/in -p
run - file push -r --uid 3 "$T" cmp-t1/srv
run - file push "$W/fstdin.txt" cmp-t1/root/f --mode bad
run "$W/fstdin.txt" file push - cmp-t1/root/stdin.txt
run - exec cmp-t1 -- sh -c "find /root /srv /srv2 /opt | sort | xargs stat -c '%n %a %u %g %F' && cat /root/stdin.txt"
run - file pull cmp-t1/root/a.txt .
run - file pull cmp-t1/root/b.txt pulled-b
run - file pull cmp-t1/root/a.txt -
run - file pull cmp-t1/srv/tree/link -
run - file pull cmp-t1/srv/tree/link plink
run - file pull cmp-t1/srv .
run - file pull -r cmp-t1/srv/tree rtree
run - file pull cmp-t1/root/a.txt cmp-t1/root/b.txt multi/
run - file pull cmp-t1/root/a.txt a.txt x
run - file pull cmp-t1/nope/x .
run - file pull cmp-t1 .
run - file pull -p cmp-t1/root/a.txt deep/er/a.txt
run "$W/fstdin.txt" file edit cmp-t1/root/b.txt
run - file pull cmp-t1/root/b.txt -
run - file delete cmp-t1/root/a.txt
run - file delete cmp-t1/root/a.txt
run - file rm cmp-t1
run - file delete cmp-t1/srv/tree/sub
run - file
run - file mount --help
run - publish cmp-t1
run - publish cmp-t1/snap0 --alias cmp-tpub os=Pub
run - publish cmp-t1 bad
run - publish cmp-t1 nope:
run - publish nosuch
run - publish cmp-t1 --expire bad -f
run - image list cmp-tpub -c ld
run - image delete cmp-tpub
run - export cmp-t3 "$W/exp.tar.gz"
run - export nosuch "$W/exp2.tar.gz"
run - import "$W/exp.tar.gz" cmp-t9
run - import "$W/exp.tar.gz" cmp-t9
run - import "$W/nope.tar.gz"
run - import
run - list cmp-t -c nsS
for c in cmp-t1 cmp-t2 cmp-t3 cmp-t4 cmp-t6 cmp-t9; do run - delete -f $c; done
run - delete cmp-t1/snap0
run - image delete cmp-tinst
run - storage delete cmp-tpool
for c in snapshot restore copy move publish file "file push" "file pull" "file delete" "file edit" export import; do
  run - $c --help
done
