#!/bin/bash
# Prints the Build-Depends of debian/control as package names joined by
# commas (debhelper-compat as debhelper): what a chroot needs to build the
# package. The versions are left to dpkg-checkbuilddeps in the chroot.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
perl -MDpkg::Control::Info -MDpkg::Deps -e '
  my $src = Dpkg::Control::Info->new("'"$SRC"'/debian/control")->get_source;
  my @names;
  for my $field (qw(Build-Depends Build-Depends-Arch)) {
    next unless $src->{$field};
    deps_iterate(deps_parse($src->{$field}, build_dep => 1, reduce_arch => 1), sub {
      my $name = $_[0]->{package};
      push @names, $name eq "debhelper-compat" ? "debhelper" : $name;
      1;
    });
  }
  print join(",", @names), "\n";'
