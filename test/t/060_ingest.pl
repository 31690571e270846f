# `sampleid ingest` and `sampleid delete` against a real server, on audio the
# test writes: files, folders and list files go in over COPY BINARY; a second
# run skips what is there; --replace re-fingerprints a changed file; every
# bad input of issue 12 fails with its path and reason while the rest goes
# in; an ingest stopped by SIGTERM and run again ends with exactly the rows
# of an uninterrupted one.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use SampleidTest;
use IPC::Run;
use Compress::Zlib;

my $repo = $ENV{SAMPLEID_REPO} or plan skip_all => 'SAMPLEID_REPO is not set';
my $cli = "$repo/build/sampleid";
plan skip_all => "$cli is not built" unless -x $cli;
plan skip_all => "no shipped model $repo/models/fp.sidm" unless -f "$repo/models/fp.sidm";

my $dir = PostgreSQL::Test::Utils::tempdir();

sub write_bytes
{
	my ($path, $bytes) = @_;
	open(my $fh, '>:raw', $path) or die "$path: $!";
	print $fh $bytes;
	close $fh;
}

sub run_cli
{
	my @cmd = @_;
	my ($in, $out, $err) = ('', '', '');
	if (ref $cmd[0] eq 'SCALAR') { $in = ${ shift @cmd }; }
	IPC::Run::run(\@cmd, '<', \$in, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my $node = PostgreSQL::Test::Cluster->new('ingest');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION sampleid');
my $dsn = $node->connstr('postgres');
my @ingest = ($cli, 'ingest', '--dsn', $dsn, '--model-dir', "$repo/models");
sub sql { $node->safe_psql('postgres', $_[0]) }

# a catalogue in two folders, plus the bad inputs
mkdir "$dir/cat";
mkdir "$dir/cat/deep";
mkdir "$dir/empty";
write_notes("$dir/cat/a$_.wav", 3, 16000, 10 + $_) for 0 .. 2;
write_notes("$dir/cat/deep/b$_.wav", 3, 16000, 20 + $_) for 0 .. 1;
write_bytes("$dir/cat/notes.txt", "not a folder search's business\n");
write_bytes("$dir/not_audio.wav", "this is text, not audio\n" x 20);
write_notes("$dir/full.wav", 3, 16000, 30);
open(my $fh, '<:raw', "$dir/full.wav") or die;
my $wav = do { local $/; <$fh> };
close $fh;
write_bytes("$dir/short_header.wav", substr($wav, 0, 30));
write_bytes("$dir/short_data.wav", substr($wav, 0, length($wav) - 8000));
system('mkfifo', "$dir/fifo.wav") == 0 or die 'mkfifo failed';
system('sox', '-n', '-r', '1000', '-b', '8', '-c', '1', "$dir/too_long.wav", 'synth', '3601', 'sine', '100') == 0
  or die 'sox failed';

my ($rc, $out, $err) = run_cli(@ingest, "$dir/cat");
is($rc, 1, 'a missing table fails the run');
like($err, qr/relation "segments" does not exist.*\n.*--create/, 'names the table and says how to make it');

($rc, $out, $err) = run_cli(@ingest, '--create', '--threads', '2', '--artist', 'The Testers',
	'--rights-holder', 'Test Rights Ltd', "$dir/cat", "$dir/not_audio.wav", "$dir/short_header.wav",
	"$dir/short_data.wav", "$dir/too_long.wav", "$dir/empty", "$dir/fifo.wav", "$dir/missing.wav", "$dir/nomatch*.flac");
is($rc, 1, 'bad inputs make the exit status 1') or diag($err);
like($err, qr/failed "\Q$dir\E\/not_audio\.wav": .+/, 'a file that is not audio is named, with the reason');
like($err, qr/failed "\Q$dir\E\/short_header\.wav": .+/, 'a file truncated in its header is named');
like($err, qr/failed "\Q$dir\E\/short_data\.wav": audio is truncated/, 'a WAV cut in its data is named');
like($err, qr/failed "\Q$dir\E\/too_long\.wav": .*3600/, 'a file over the duration limit says the limit');
like($err, qr/failed "\Q$dir\E\/empty": the folder holds no audio files/, 'a folder with no audio');
like($err, qr/failed "\Q$dir\E\/fifo\.wav": not a regular file/, 'a FIFO, without waiting for a writer');
like($err, qr/failed "\Q$dir\E\/missing\.wav": No such file/, 'a missing file');
like($err, qr/failed "\Q$dir\E\/nomatch\*\.flac": no file matches/, 'a pattern that matches nothing');
like($err, qr/5 ingested, 0 unchanged, 8 failed of 13 files/, 'the summary counts them');
is(sql('SELECT count(*) FROM recordings'), 5, 'the five catalogue files are in');
is(sql(qq{SELECT title || '|' || artist || '|' || rights_holder || '|' || model || '|' || length(content_sha256)
	FROM recordings WHERE audio_path = '$dir/cat/deep/b1.wav'}), 'b1|The Testers|Test Rights Ltd|fp|64',
	'a folder is searched recursively; title, artist, rights holder, model and hash are recorded');
is(sql("SELECT count(*) FROM recordings WHERE audio_path LIKE '%.txt'"), 0, 'a folder search takes audio only');
is(sql('SELECT count(*) = count(DISTINCT (recording_id, seg)) AND min(seg) = 0 FROM segments'), 't',
	'segments are numbered from 0');
is(sql(qq{SELECT count(*) FROM segments s JOIN recordings r ON r.id = s.recording_id
	WHERE r.audio_path = '$dir/cat/a0.wav'}),
	sql(qq{SELECT count(*) FROM sampleid_embed(pg_read_binary_file('$dir/cat/a0.wav'))}),
	'the client makes as many segments as the server would');
is(sql(qq{SELECT bool_and(abs((s.fp <#> e.fp) + 1) < 1e-4) FROM segments s
	JOIN recordings r ON r.id = s.recording_id AND r.audio_path = '$dir/cat/a0.wav'
	JOIN sampleid_embed(pg_read_binary_file('$dir/cat/a0.wav')) e ON e.seg = s.seg}), 't',
	'and the same fingerprints (COPY BINARY carries them exactly enough)');
is(sql("SELECT model FROM sampleid_catalogues WHERE catalogue = 'segments'::regclass"), 'fp',
	'the segments table is registered with its model');

my $snapshot = sql('SELECT id, audio_path, content_sha256 FROM recordings ORDER BY id');
($rc, $out, $err) = run_cli(@ingest, "$dir/cat");
is($rc, 0, 'a second run succeeds') or diag($err);
like($err, qr/0 ingested, 5 unchanged, 0 failed of 5 files/, 'and skips every file already there');
is(sql('SELECT id, audio_path, content_sha256 FROM recordings ORDER BY id'), $snapshot, 'nothing changed');

# on a terminal (script(1) gives it one): a progress bar instead of a line per file
SKIP:
{
	skip 'script(1) is not installed', 2 if system('script --version >/dev/null 2>&1') != 0;
	my $cmdline = join ' ', map { "'$_'" } @ingest, '--create', '--recordings', 'tty_rec', '--segments', 'tty_seg', "$dir/cat";
	my $tty = `script -qec "$cmdline" /dev/null`;
	like($tty, qr/\r\e\[K\[#+\.*\] 5\/5 files, [\d.]+ h audio, [\d.]+x real time, ETA 0:00:00/,
		'a terminal gets a progress bar with files, hours, speed and ETA');
	unlike($tty, qr/ok "/, 'and no line per file');
}

# a changed file: refused, then re-fingerprinted in place with --replace
my $a1_id = sql("SELECT id FROM recordings WHERE audio_path = '$dir/cat/a1.wav'");
write_notes("$dir/cat/a1.wav", 4, 16000, 99);
($rc, $out, $err) = run_cli(@ingest, "$dir/cat/a1.wav");
is($rc, 1, 'a changed file is refused without --replace');
like($err, qr/content changed.*--replace/, 'saying why and what to do');
($rc, $out, $err) = run_cli(@ingest, '--replace', "$dir/cat/a1.wav");
is($rc, 0, '--replace re-fingerprints it') or diag($err);
is(sql("SELECT id || ' ' || (duration_s = 4) FROM recordings WHERE audio_path = '$dir/cat/a1.wav'"), "$a1_id true",
	'keeping its id');
is(sql("SELECT count(*) FROM segments WHERE recording_id = $a1_id"),
	sql(qq{SELECT count(*) FROM sampleid_embed(pg_read_binary_file('$dir/cat/a1.wav'))}),
	'with the new segments only');

# sampleid delete
($rc, $out, $err) = run_cli($cli, 'delete', '--dsn', $dsn, "$dir/cat/deep");
is($rc, 0, 'delete succeeds') or diag($err);
is(sql("SELECT count(*) FROM recordings WHERE audio_path LIKE '%/deep/%'")
	. sql("SELECT count(*) FROM segments s JOIN recordings r ON r.id = s.recording_id WHERE audio_path LIKE '%/deep/%'"),
	'00', 'a folder of recordings and their segments are gone');
($rc, $out, $err) = run_cli(\"$dir/cat/deep/b0.wav\n# a comment\n\n", @ingest, '-', "$dir/cat/a*.wav");
is($rc, 0, 'paths on stdin and a glob pattern') or diag($err);
like($err, qr/1 ingested, 3 unchanged, 0 failed of 4 files/, 'are expanded, comments and blank lines ignored');
($rc, $out, $err) = run_cli($cli, 'delete', '--dsn', $dsn, "$dir/never_ingested.wav");
is($rc, 1, 'deleting what is not there says so by the exit status');

# an existing catalogue whose columns have other names
sql('CREATE TABLE my_rec (rid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text, artist text,
	rights_holder text, file text UNIQUE, content_sha256 text, duration_s real, model text, model_sha256 text);
	CREATE TABLE my_seg (rec bigint REFERENCES my_rec, seg int, t_start real, embedding fingerprint(128))');
my @renamed = ('--recordings', 'my_rec', '--segments', 'my_seg', '--column', 'id=rid', '--column', 'title=name',
	'--column', 'audio_path=file', '--column', 'recording_id=rec', '--column', 'fp=embedding');
($rc, $out, $err) = run_cli(@ingest, @renamed, "$dir/cat/a0.wav", "$dir/cat/a2.wav");
is($rc, 0, '--column maps the columns of an existing table') or diag($err);
is(sql("SELECT string_agg(name, ',' ORDER BY name) FROM my_rec"), 'a0,a2', 'the recordings are in it');
is(sql('SELECT count(*) FROM my_seg s JOIN my_rec r ON r.rid = s.rec'), sql('SELECT count(*) FROM segments s
	JOIN recordings r ON r.id = s.recording_id WHERE r.title IN (\'a0\', \'a2\')'), 'with their segments');
($rc, $out, $err) = run_cli($cli, 'delete', '--dsn', $dsn, @renamed[ 0 .. 3, 4, 5, 8, 9, 10, 11 ], "$dir/cat/a0.wav");
is($rc, 0, 'delete takes the same mapping') or diag($err);
is(sql('SELECT count(*) FROM my_rec') . sql('SELECT count(DISTINCT rec) FROM my_seg'), '11', 'and removes one recording');
($rc, $out, $err) = run_cli(@ingest, '--create', @renamed, "$dir/cat");
is($rc, 2, '--create with --column is a usage error');
($rc, $out, $err) = run_cli(@ingest, '--column', 'colour=red', "$dir/cat");
like($err, qr/--column wants LOGICAL=ACTUAL with LOGICAL one of id, title/, 'an unknown logical column is named');

# a model change: a trained "fp" whose file differs (its note), installed for
# the server through sampleid.model_dir and for the client by --model-dir
mkdir "$dir/models2";
open(my $mf, '<:raw', "$repo/models/fp.sidm") or die;
my $sidm = do { local $/; <$mf> };
close $mf;
substr($sidm, 84 + 200, 1) = 'x';    # inside the note's NUL padding
substr($sidm, 468, 4) = pack('V', Compress::Zlib::crc32(substr($sidm, 0, 468)));
write_bytes("$dir/models2/fp.sidm", $sidm);
my $dsn2 = "$dsn options='-c sampleid.model_dir=$dir/models2'";
my @ingest2 = ($cli, 'ingest', '--dsn', $dsn2, '--model-dir', "$dir/models2");
my $segs_before = sql('SELECT count(*) FROM segments');
($rc, $out, $err) = run_cli(@ingest2, "$dir/cat");
is($rc, 1, 'another model over the same table is refused');
like($err, qr/catalogue (public\.)?segments is fingerprinted with model "fp" \(sha256 \w+\), not "fp"/, 'saying which two');
($rc, $out, $err) = run_cli(@ingest2, '--refingerprint');
is($rc, 0, '--refingerprint re-fingerprints the whole catalogue') or diag($err);
like($err, qr/4 ingested, 0 unchanged, 0 failed of 4 files/, 'every recording in it');
my $new_sha = $node->safe_psql('postgres', "SET sampleid.model_dir = '$dir/models2'; SELECT sha256 FROM sampleid_models() WHERE name = 'fp'");
is(sql("SELECT count(*) FILTER (WHERE model_sha256 = '$new_sha') || '/' || count(*) FROM recordings"), '4/4',
	'each recording now names the new model');
is(sql("SELECT model_sha256 FROM sampleid_catalogues WHERE catalogue = 'segments'::regclass"), $new_sha,
	'so does the registration');
is(sql('SELECT count(*) FROM segments'), $segs_before, 'with as many segments as before');
($rc, $out, $err) = run_cli(@ingest2, '--refingerprint');
like($err, qr/0 ingested, 4 unchanged/, 'a second --refingerprint has nothing to do');

# a real file that decodes a little short of its header (5,806 frames) keeps working
my $northerners = '/usr/share/games/wesnoth/1.16/data/core/music/northerners.ogg';
SKIP:
{
	skip 'wesnoth-1.16-music is not installed', 1 unless -f $northerners;
	($rc, $out, $err) = run_cli(@ingest, qw(--create --recordings ogg_rec --segments ogg_seg), $northerners);
	is($rc, 0, 'northerners.ogg, a little short of its header, is ingested') or diag($err);
}

# the bad inputs that stop a run before any file
($rc, $out, $err) = run_cli($cli, 'ingest', '--dsn', 'host=127.0.0.1 port=1 connect_timeout=3',
	'--model-dir', "$repo/models", "$dir/cat");
is($rc, 1, 'an unreachable server fails');
like($err, qr/sampleid ingest: cannot connect to database "[^"]*" at 127\.0\.0\.1 port 1:/, 'saying where it tried');
($rc, $out, $err) = run_cli($cli, 'ingest', '--dsn', 'host=127.0.0.1 port=1 password=s3cret connect_timeout=3',
	'--model-dir', "$repo/models", "$dir/cat");
unlike($err, qr/s3cret/, 'without showing a password the DSN holds');
sql('CREATE TABLE rec_nocol (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, title text, artist text,
	rights_holder text, audio_path text UNIQUE, content_sha256 text, duration_s real, model text);
	CREATE TABLE seg_nocol (recording_id bigint, seg int, fp fingerprint(128))');
($rc, $out, $err) = run_cli(@ingest, '--recordings', 'rec_nocol', '--segments', 'seg_nocol', "$dir/cat");
is($rc, 1, 'a missing column fails the run');
like($err, qr/column "t_start" does not exist/, 'and is named');
sql("CREATE TABLE seg_other (LIKE segments); INSERT INTO sampleid_catalogues
	(catalogue, model, model_sha256, embed_dim, segment_seconds, segment_hop_seconds)
	VALUES ('seg_other', 'other', repeat('0', 64), 128, 1, 0.5)");
($rc, $out, $err) = run_cli(@ingest, '--segments', 'seg_other', "$dir/cat");
is($rc, 1, 'a table fingerprinted by another model is refused');
like($err, qr/fingerprinted with model "other"/, 'saying which');
mkdir "$dir/models";
run_cli($cli, 'init-model', '--out', "$dir/models/fp.sidm");
($rc, $out, $err) = run_cli($cli, 'ingest', '--dsn', $dsn, '--model', "$dir/models/fp.sidm", "$dir/cat");
is($rc, 1, "a local model that is not the server's is refused");
like($err, qr/is not the server's/, 'saying so');
($rc, $out, $err) = run_cli(@ingest, '--threads', '4x', "$dir/cat");
is($rc, 2, 'an integer option with junk is a usage error');
like($err, qr/--threads wants an integer from 1 to \d+, not "4x"/, 'naming the option');

# interrupted and resumed: the same rows as one uninterrupted run
mkdir "$dir/big";
write_notes(sprintf("$dir/big/t%02d.wav", $_), 8, 16000, 100 + $_) for 0 .. 29;
my $list = join '', map { sprintf("$dir/big/t%02d.wav\tTrack %d\tArtist %d\n", $_, $_, $_ % 3) } 0 .. 29;
write_bytes("$dir/list.tsv", $list);
my @big = (@ingest, '--create', '--threads', '1', '--batch', '1', '--list', "$dir/list.tsv");
($rc, $out, $err) = run_cli(@big, '--recordings', 'whole_rec', '--segments', 'whole_seg');
is($rc, 0, 'the uninterrupted ingest succeeds') or diag($err);

my ($in, $sout, $serr) = ('', '', '');
my $h = IPC::Run::start([ @big, '--recordings', 'part_rec', '--segments', 'part_seg' ],
	'<', \$in, '>', \$sout, '2>', \$serr);
$h->pump until $serr =~ /ok "/ || !$h->pumpable;
$h->signal('TERM');
$h->finish;
is($h->result(0), 128 + 15, 'SIGTERM stops the run with status 143');
like($serr, qr/stopped by signal 15.*run the same command again/, 'saying how to complete it');
my $part = sql('SELECT count(*) FROM part_rec');
ok($part >= 1 && $part < 30, "it stopped part way ($part of 30 recordings committed)");
is(sql('SELECT count(*) FROM part_rec r WHERE NOT EXISTS (SELECT 1 FROM part_seg s WHERE s.recording_id = r.id)'),
	0, 'every committed recording has its segments');
($rc, $out, $err) = run_cli(@big, '--recordings', 'part_rec', '--segments', 'part_seg');
is($rc, 0, 'the second run completes') or diag($err);
like($err, qr/\d+ ingested, $part unchanged, 0 failed of 30 files/, 'skipping what the first committed');
my $rows = 'SELECT r.id, r.title, r.artist, r.audio_path, r.content_sha256, s.seg, s.t_start, s.fp::text
	FROM %s r JOIN %s s ON s.recording_id = r.id ORDER BY r.id, s.seg';
my $whole = sql(sprintf($rows, 'whole_rec', 'whole_seg'));
is(sql(sprintf($rows, 'part_rec', 'part_seg')), $whole, 'interrupted and resumed equals uninterrupted, row for row');
is(sql('SELECT count(*) FROM whole_seg'),
	30 * sql(qq{SELECT count(*) FROM sampleid_embed(pg_read_binary_file('$dir/big/t00.wav'))}),
	'every segment of the 30 files, once');

# server side: sampleid_embed_file needs pg_read_server_files only (the
# README's pg_read_binary_file needs an EXECUTE grant besides), and the SQL
# ingest of docs/reference.md keeps a failing file as a row with its error
sql('CREATE ROLE reader IN ROLE pg_read_server_files; CREATE ROLE nobody');
my $server_fps = sql(qq{SELECT string_agg(fp::text, ' ' ORDER BY seg)
	FROM sampleid_embed(pg_read_binary_file('$dir/cat/a0.wav'))});
is(sql(qq{SET ROLE reader; SELECT string_agg(fp::text, ' ' ORDER BY seg) FROM sampleid_embed_file('$dir/cat/a0.wav')}),
	$server_fps, 'a pg_read_server_files role fingerprints a server file, as sampleid_embed does');
my ($prc, $pout, $perr) = $node->psql('postgres', qq{SET ROLE reader; SELECT length(pg_read_binary_file('$dir/cat/a0.wav'))});
like($perr, qr/permission denied for function pg_read_binary_file/, 'which pg_read_binary_file does not allow it');
($prc, $pout, $perr) = $node->psql('postgres', qq{SET ROLE nobody; SELECT count(*) FROM sampleid_embed_file('$dir/cat/a0.wav')});
like($perr, qr/permission denied to read audio files on the server/, 'a role without it is refused');
($prc, $pout, $perr) = $node->psql('postgres', qq{SELECT count(*) FROM sampleid_embed_file('$dir/not_audio.wav')});
like($perr, qr/not in an audio format.*\n.*fingerprinting server file "\Q$dir\E\/not_audio\.wav"/,
	'an error says which file');
($prc, $pout, $perr) = $node->psql('postgres', qq{SELECT count(*) FROM sampleid_embed_file('$dir/fifo.wav')});
like($perr, qr/"\Q$dir\E\/fifo\.wav" is not a regular file/, 'a FIFO is refused without waiting for a writer');
sql(qq{CREATE TABLE sql_rec (id int PRIMARY KEY, audio_path text NOT NULL);
	CREATE TABLE sql_seg (recording_id int, seg int, t_start real, fp fingerprint(128));
	CREATE TABLE sql_err (recording_id int, error text);
	INSERT INTO sql_rec VALUES (1, '$dir/cat/a0.wav'), (2, '$dir/not_audio.wav'), (3, '$dir/cat/a2.wav'),
		(4, '$dir/missing.wav');
	WITH e AS (
	    SELECT r.id, x.* FROM sql_rec r CROSS JOIN LATERAL sampleid_try_embed_file(r.audio_path) x),
	bad AS (INSERT INTO sql_err SELECT id, error FROM e WHERE error IS NOT NULL)
	INSERT INTO sql_seg SELECT id, seg, t_start, fp FROM e WHERE error IS NULL});
is(sql('SELECT recording_id FROM sql_err ORDER BY 1'), "2\n4", 'the SQL ingest records the two bad files as errors');
like(sql('SELECT error FROM sql_err WHERE recording_id = 2'), qr/^[0-9A-Z]{5}: audio file ".*not_audio\.wav" is not in an audio format/, 'with SQLSTATE and message');
is(sql('SELECT string_agg(DISTINCT recording_id::text, \',\') FROM sql_seg'), '1,3', 'and fingerprints the good ones');
is(sql("SELECT string_agg(fp::text, ' ' ORDER BY seg) FROM sql_seg WHERE recording_id = 1"), $server_fps,
	'completely');

$node->stop;
done_testing();
