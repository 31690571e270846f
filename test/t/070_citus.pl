# The catalogue distributed with Citus (docs/distributed.md): a coordinator
# and two workers against a single node holding the same recordings.
# recordings, segments and matches are distributed by recording id and
# co-located; `sampleid ingest` loads the coordinator over COPY; the ivfpq
# index is built on every shard; sampleid_identify on the coordinator names
# the same recordings at the same times (within one hop) as on the single
# node; `sampleid report` runs on the coordinator.  Faults: a worker stopped
# under an ingest loses nothing committed and a re-run completes; a worker
# stopped under identification (between calls of a session, or in the middle
# of one) is an error, never a shorter answer.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FindBin;
use lib $FindBin::Bin;
use SampleidTest;

my $repo = $ENV{SAMPLEID_REPO} or plan skip_all => 'SAMPLEID_REPO is not set';
my $cli = "$repo/build/sampleid";
plan skip_all => "$cli is not built" unless -x $cli;
plan skip_all => "no shipped model $repo/models/fp.sidm" unless -f "$repo/models/fp.sidm";
my $pkglibdir = `pg_config --pkglibdir`;
chomp $pkglibdir;
plan skip_all => 'Citus is not installed (scripts/citus.sh install)' unless -f "$pkglibdir/citus.so";

my $dir = PostgreSQL::Test::Utils::tempdir();

sub run_cmd
{
	my ($out, $err) = ('', '');
	IPC::Run::run([@_], '<', \'', '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# the catalogue: eight 10 s recordings of seeded notes; queries are 3 s excerpts
my $n_rec = 8;
my $list = '';
for my $i (0 .. $n_rec - 1)
{
	write_notes("$dir/rec$i.wav", 10, 16000, 1000 + 7 * $i);
	$list .= "$dir/rec$i.wav\tTrack $i\tArtist $i\tHolder " . ($i % 3) . "\n";
}
open(my $fh, '>', "$dir/list.tsv") or die;
print $fh $list;
close $fh;
my %clips = (clip_a => [ 1, 2.3 ], clip_b => [ 4, 5.1 ], clip_c => [ 6, 0.7 ]);
for my $c (sort keys %clips)
{
	my ($rec, $at) = @{ $clips{$c} };
	(run_cmd('sox', "$dir/rec$rec.wav", "$dir/$c.wav", 'trim', $at, 3))[0] == 0 or die 'sox failed';
}
write_notes("$dir/clip_none.wav", 3, 16000, 99991);    # not in the catalogue
my @queries = ((sort keys %clips), 'clip_none');

# --- the nodes -------------------------------------------------------------
# the tables are small enough that the planner would scan them: the ivfpq index is under test.
# Every list is probed (lists = 4 below), so the single index and the four shard indexes
# return exact top-k sets and the two catalogues must agree; with one probe each shard's
# index, trained on its own rows, proposes other candidates (docs/distributed.md), and a
# run once saw the distributed catalogue accept one recording more
my $small_tables = "enable_seqscan = off\nivfpq.probes = 4\n";
my $single = PostgreSQL::Test::Cluster->new('single');
$single->init;
$single->append_conf('postgresql.conf', $small_tables);
$single->start;
$single->safe_psql('postgres', 'CREATE EXTENSION sampleid');

my %node;
for my $name (qw(coordinator worker1 worker2))
{
	my $n = PostgreSQL::Test::Cluster->new($name);
	$n->init;
	# Citus reaches the other nodes over TCP; four shards keep each one's index trained
	$n->append_conf('postgresql.conf', "shared_preload_libraries = 'citus,sampleid'\n"
		  . "listen_addresses = '127.0.0.1'\ncitus.shard_count = 4\n$small_tables");
	$n->start;
	$n->safe_psql('postgres', 'CREATE EXTENSION citus; CREATE EXTENSION sampleid');
	$node{$name} = $n;
}
my ($coord, @workers) = @node{qw(coordinator worker1 worker2)};
$coord->safe_psql('postgres', 'SELECT citus_set_coordinator_host(\'127.0.0.1\', ' . $coord->port . ')');
$coord->safe_psql('postgres', "SELECT citus_add_node('127.0.0.1', " . $_->port . ')') for @workers;
is($coord->safe_psql('postgres', 'SELECT count(*) FROM citus_get_active_worker_nodes()'), 2,
	'the coordinator has two workers');

my @ingest = ('ingest', '--model-dir', "$repo/models", '--threads', '1', '--batch', '1', '--list', "$dir/list.tsv");
my ($rc, $out, $err) = run_cmd($cli, @ingest, '--distribute', '--dsn', $single->connstr('postgres'));
isnt($rc, 0, '--distribute without Citus fails');
like($err, qr/--distribute needs Citus on the server/, 'saying why') or diag($err);
is($single->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname IN ('recordings', 'segments')}), 0,
	'and leaves no tables behind');
($rc, $out, $err) = run_cmd($cli, @ingest, '--create', '--dsn', $single->connstr('postgres'));
is($rc, 0, 'the single node is ingested') or diag($err);

# the tables of --create, distributed by recording id and co-located; nothing
# is ingested: the first run below is cut short by the fault
($rc, $out, $err) = run_cmd($cli, @ingest, '--distribute', '--dsn', $coord->connstr('postgres'), '--list', '/dev/null');
is($rc, 0, '--distribute makes the distributed tables') or diag($err);
is($coord->safe_psql('postgres', q{SELECT string_agg(logicalrelid::text || ' ' || colocationid, ', ' ORDER BY logicalrelid::text) FROM pg_dist_partition}),
	join(', ', map { "$_ " . $coord->safe_psql('postgres', q{SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'recordings'::regclass}) }
		qw(matches recordings segments)),
	'recordings, segments and matches, co-located');

# --- a worker stopped under an ingest ---------------------------------------
# The ingest commits every recording (--batch 1); a lock on the shard of a later
# recording's row holds it there while the worker holding that shard is stopped.
my @shard_of = (undef, map {
	$coord->safe_psql('postgres', "SELECT get_shard_id_for_distribution_column('recordings', $_)")
} 1 .. $n_rec);
my ($held) = grep { my $k = $_; !grep { $shard_of[$_] == $shard_of[$k] } 1 .. $k - 1 } 3 .. $n_rec;
die 'no recording after the second has a shard of its own' unless $held;
my ($shard_port, $shard_name) = split /\|/, $coord->safe_psql('postgres',
	"SELECT nodeport, shard_name FROM citus_shards WHERE shardid = $shard_of[$held]");
my ($victim) = grep { $_->port == $shard_port } @workers;
my $lock = $victim->background_psql('postgres');
# SHARE blocks the INSERT, not the ingest's first SELECT of what is there
$lock->query_safe("SET citus.enable_manual_changes_to_shards = on; BEGIN; LOCK TABLE $shard_name IN SHARE MODE");

($out, $err) = ('', '');
my $run = IPC::Run::start([ $cli, @ingest, '--dsn', $coord->connstr('postgres') ], '<', \'', '>', \$out, '2>', \$err);
ok($victim->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM pg_locks WHERE NOT granted AND relation = '$shard_name'::regclass"),
	"the ingest waits on the shard of recording $held");
$victim->stop('immediate');
$run->finish;
my $ingest_rc = $run->result;
eval { $lock->quit };    # its server is gone
isnt($ingest_rc, 0, 'the ingest fails when the worker goes away');
like($err, qr/sampleid ingest: .*(connection|server closed|terminat)/i, 'saying the connection was lost') or diag($err);
$victim->start;

my $per_recording = "SELECT r.audio_path, count(s.seg) FROM recordings r LEFT JOIN segments s ON s.recording_id = r.id "
  . 'GROUP BY 1 ORDER BY 1';
my %single_segments = map { split /\|/ } split /\n/, $single->safe_psql('postgres', $per_recording);
my %committed = map { split /\|/ } split /\n/, $coord->safe_psql('postgres', $per_recording);
is(scalar keys %committed, $held - 1, 'the recordings committed before the fault are there');
is_deeply([ map { $committed{$_} } sort keys %committed ], [ map { $single_segments{$_} } sort keys %committed ],
	'each with all its segments');

($rc, $out, $err) = run_cmd($cli, @ingest, '--dsn', $coord->connstr('postgres'));
is($rc, 0, 'a re-run of the ingest completes') or diag($err);
my $unchanged = () = $err =~ /^sampleid ingest: unchanged /mg;
is($unchanged, $held - 1, 'skipping what was committed');
is($coord->safe_psql('postgres', $per_recording), $single->safe_psql('postgres', $per_recording),
	'the distributed catalogue holds the single node\'s recordings and segments');
($rc, $out, $err) = run_cmd($cli, @ingest, '--create', '--dsn', $coord->connstr('postgres'));
is($rc, 0, '--create on the distributed tables changes nothing') or diag($err);
is($coord->safe_psql('postgres', q{SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text IN ('recordings', 'segments', 'matches')}),
	3, 'and leaves them distributed');

# --- one ivfpq index per shard -----------------------------------------------
my $index = 'CREATE INDEX segments_fp ON segments USING ivfpq (fp) WITH (lists = 4, m = 16, nbits = 4)';
$single->safe_psql('postgres', $index);
$coord->safe_psql('postgres', $index);
my $shard_indexes = 0;
$shard_indexes += $_->safe_psql('postgres',
	q{SET citus.override_table_visibility = off; SELECT count(*) FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'ivfpq' AND c.relname LIKE 'segments_fp_%'})
  for @workers;
is($shard_indexes, 4, 'the index is built on each of the four shards');
my $probe = $single->safe_psql('postgres', 'SELECT fp FROM segments ORDER BY recording_id, seg LIMIT 1');
my $plan = $coord->safe_psql('postgres',
	"EXPLAIN SELECT recording_id FROM segments ORDER BY fp OPERATOR(public.<#>) '$probe' LIMIT 20");
like($plan, qr/Task Count: 4.*Limit.*Index Scan using segments_fp_\d+/s,
	'the top-k statement runs on every shard through its index') or diag($plan);

# --- identification -----------------------------------------------------------
my $hop = $single->safe_psql('postgres', 'SELECT segment_hop_seconds FROM sampleid_catalogues');
sub identify
{
	my ($n, $clip) = @_;
	return $n->safe_psql('postgres',
		"SELECT r.audio_path, i.query_start, i.query_end, i.ref_start, i.ref_end FROM sampleid_identify("
		  . "pg_read_binary_file('$dir/$clip.wav'), 'segments') i JOIN recordings r ON r.id = i.recording_id "
		  . 'WHERE i.accepted ORDER BY r.audio_path, i.query_start');
}
for my $q (@queries)
{
	my @one = map { [ split /\|/ ] } split /\n/, identify($single, $q);
	my @three = map { [ split /\|/ ] } split /\n/, identify($coord, $q);
	if ($clips{$q})
	{
		ok((grep { $_->[0] eq "$dir/rec$clips{$q}[0].wav" } @one), "$q: the single node finds its recording");
	}
	else
	{
		is(scalar @one, 0, "$q: the single node finds nothing");
	}
	is_deeply([ map { $_->[0] } @three ], [ map { $_->[0] } @one ], "$q: the distributed catalogue accepts the same recordings");
	my $worst = 0;
	for my $i (0 .. ($#one < $#three ? $#one : $#three))
	{
		for my $c (1 .. 4)
		{
			my $d = abs($one[$i][$c] - $three[$i][$c]);
			$worst = $d if $d > $worst;
		}
	}
	cmp_ok($worst, '<=', $hop + 1e-6, "$q: at the same times within one hop (largest difference $worst s)");
}

# `sampleid identify` embeds here and sends the fingerprints: the same answers
my %client;
for my $n ($single, $coord)
{
	my %path = map { split /\|/ } split /\n/, $n->safe_psql('postgres', 'SELECT id, audio_path FROM recordings');
	($rc, $out, $err) = run_cmd($cli, 'identify', '--dsn', $n->connstr('postgres'), '--model-dir', "$repo/models",
		'--tsv', map { "$dir/$_.wav" } @queries);
	is($rc, 0, $n->name . ': sampleid identify runs') or diag($err);
	# file and the accepted recording's path, per row
	$client{ $n->name } = join("\n", sort map { my @f = split /\t/; "$f[0] $path{$f[1]}" } grep { /\S/ } split /\n/, $out);
}
like($client{single}, qr/clip_b\.wav \Q$dir\E\/rec4\.wav/, 'the client names the excerpt\'s recording');
is($client{coordinator}, $client{single}, 'and the coordinator answers it as the single node does');

# --- the rights report on the coordinator --------------------------------------
for my $n ($single, $coord)
{
	$n->safe_psql('postgres', q{INSERT INTO matches (work, recording_id, work_start, work_end, recording_start, recording_end, confidence, model)
		SELECT 'new_work.wav', id, 1.5, 4.5, 2.0, 5.0, 0.8, 'fp' FROM recordings WHERE title IN ('Track 1', 'Track 6')});
}
my %report;
for my $n ($single, $coord)
{
	($rc, $out, $err) = run_cmd($cli, 'report', '--dsn', $n->connstr('postgres'), '--csv', '-');
	is($rc, 0, $n->name . ': sampleid report runs') or diag($err);
	# ids may differ between the two catalogues: the report without them
	$report{ $n->name } = join("\n", map { my @f = split /,/; splice(@f, 3, 1); join(',', @f) } split /\r?\n/, $out);
}
like($report{coordinator}, qr/Track 1,Artist 1,Holder 1.*Track 6,Artist 6,Holder 0/s, 'the coordinator\'s report names the uses');
is($report{coordinator}, $report{single}, 'and equals the single node\'s');

# sampleid delete: a recording and, by the co-located foreign key, its segments
($rc, $out, $err) = run_cmd($cli, 'delete', '--dsn', $coord->connstr('postgres'), "$dir/rec7.wav");
is($rc, 0, 'sampleid delete runs on the coordinator') or diag($err);
is($coord->safe_psql('postgres', "SELECT count(*) FROM recordings WHERE audio_path = '$dir/rec7.wav'") . ' '
	  . $coord->safe_psql('postgres', 'SELECT count(*) FROM segments s WHERE NOT EXISTS (SELECT FROM recordings r WHERE r.id = s.recording_id)')
	  . ' ' . $coord->safe_psql('postgres', 'SELECT count(DISTINCT recording_id) FROM segments'),
	'0 0 ' . ($n_rec - 1), 'the recording and its segments are gone, the others stay');

# --- a worker stopped under identification --------------------------------------
# one session identifies (its connections to the workers are then open), a
# worker stops, the session identifies again; then a new session
my $lost = $workers[1];
my $query = "SELECT count(*) FROM sampleid_identify(pg_read_binary_file('$dir/clip_b.wav'), 'segments') WHERE accepted";
my $session = $coord->background_psql('postgres', on_error_stop => 0);
is($session->query($query), 1, 'with both workers, the clip is identified');
$lost->stop('immediate');
my ($sout, $sfailed) = $session->query($query);
is($sout, '', 'with one stopped, no row comes back');
like($session->{stderr}, qr/ERROR:.*127\.0\.0\.1:${\ $lost->port}/, 'but an error naming the lost worker')
  or diag($session->{stderr});
$session->quit;
my ($frc, $fout, $ferr) = $coord->psql('postgres', $query);
isnt($frc, 0, 'a new session fails too');
is($fout, '', 'without a row');
like($ferr, qr/ERROR:.*127\.0\.0\.1:${\ $lost->port}/, 'naming the worker') or diag($ferr);
$lost->start;
is($coord->safe_psql('postgres', $query), 1, 'once the worker is back, identification works again');

# and in the middle of one call: a lock holds the coarse stage's statement on
# one of that worker's segment shards while the worker stops
my $seg_shard = $coord->safe_psql('postgres', "SELECT shard_name FROM citus_shards WHERE table_name = 'segments'::regclass "
	  . 'AND nodeport = ' . $lost->port . ' ORDER BY shardid LIMIT 1');
my $holder = $lost->background_psql('postgres');
$holder->query_safe("SET citus.enable_manual_changes_to_shards = on; BEGIN; LOCK TABLE $seg_shard IN ACCESS EXCLUSIVE MODE");
my ($cout, $cerr) = ('', '');
my $call = IPC::Run::start([ 'psql', '-XAtq', '-d', $coord->connstr('postgres'), '-c', $query ],
	'<', \'', '>', \$cout, '2>', \$cerr);
$lost->poll_query_until('postgres', "SELECT count(*) > 0 FROM pg_locks WHERE NOT granted AND relation = '$seg_shard'::regclass")
  or die 'the identification never reached the locked shard';
$lost->stop('immediate');
$call->finish;
isnt($call->result, 0, 'a worker stopped in the middle of a call fails the call');
is($cout, '', 'without a row');
like($cerr, qr/ERROR:.*127\.0\.0\.1:${\ $lost->port}/, 'naming the worker') or diag($cerr);
eval { $holder->quit };    # its server is gone
$lost->start;

$_->stop for $single, $coord, @workers;
done_testing();
