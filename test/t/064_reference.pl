# docs/reference.md lists everything: every function, type, operator,
# operator class, access method, table and event trigger the extension
# creates (from pg_depend), every setting it defines, every command of
# `sampleid help`, and every option of each command's --help in that
# command's section.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $repo = $ENV{SAMPLEID_REPO} or plan skip_all => 'SAMPLEID_REPO is not set';
my $cli = "$repo/build/sampleid";
plan skip_all => "$cli is not built" unless -x $cli;

open(my $fh, '<', "$repo/docs/reference.md") or die "docs/reference.md: $!";
my $ref = do { local $/; <$fh> };
close $fh;

my $node = PostgreSQL::Test::Cluster->new('reference');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION sampleid');

# name of every member of the extension, per catalogue
my $members = $node->safe_psql('postgres', q{
	WITH m AS (SELECT d.classid, d.objid FROM pg_depend d
	           WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
	             AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'sampleid'))
	SELECT 'function', p.proname FROM m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
	UNION SELECT 'type', t.typname FROM m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
	UNION SELECT 'operator', o.oprname FROM m JOIN pg_operator o ON m.classid = 'pg_operator'::regclass AND o.oid = m.objid
	UNION SELECT 'operator class', c.opcname FROM m JOIN pg_opclass c ON m.classid = 'pg_opclass'::regclass AND c.oid = m.objid
	UNION SELECT 'access method', a.amname FROM m JOIN pg_am a ON m.classid = 'pg_am'::regclass AND a.oid = m.objid
	UNION SELECT 'table', r.relname FROM m JOIN pg_class r ON m.classid = 'pg_class'::regclass AND r.oid = m.objid
	UNION SELECT 'event trigger', e.evtname FROM m JOIN pg_event_trigger e ON m.classid = 'pg_event_trigger'::regclass AND e.oid = m.objid
	ORDER BY 1, 2});
my @members = map { [ split /\|/ ] } split /\n/, $members;
ok(scalar(grep { $_->[0] eq 'function' } @members) > 10, 'the extension\'s functions are found');
for my $m (@members)
{
	my ($kind, $name) = @$m;
	ok($ref =~ /`\Q$name\E[`( ]/, "$kind $name is in docs/reference.md");
}

# settings: loading the module defines them
my $settings = $node->safe_psql('postgres',
	"LOAD 'sampleid'; SELECT name FROM pg_settings WHERE name ~ '^(sampleid|ivfpq)\\.' ORDER BY 1");
ok($settings ne '', 'the settings are found');
ok($ref =~ /`\Q$_\E`/, "setting $_ is in docs/reference.md") for split /\n/, $settings;

# commands and their options
my ($out, $err) = ('', '');
IPC::Run::run([ $cli, 'help' ], '<', \'', '>', \$out, '2>', \$err);
my @commands = $out =~ /^  ([a-z][a-z-]*) /mg;
ok(@commands > 5, 'sampleid help lists the commands');
for my $c (@commands)
{
	my ($section) = $ref =~ /^(### `sampleid \Q$c\E[ `].*?)(?=^##|\z)/ms;
	ok(defined $section, "command $c has a section") or next;
	($out, $err) = ('', '');
	IPC::Run::run([ $cli, $c, '--help' ], '<', \'', '>', \$out, '2>', \$err);
	my %opts = map { $_ => 1 } $out =~ /(--[a-z][a-z-]*)/g;
	ok($section =~ /`[^`]*\Q$_\E\b/, "$c $_ is in its section") for sort keys %opts;
}

$node->stop;
done_testing();
