# What an ordinary role sends cannot exhaust the backend (issue 15):
# - sampleid_audio_segments arguments that would make gigabytes are refused up
#   front with 54000, with little memory used;
# - with the limits raised, a huge window is still cancellable within a batch;
# - a malformed Ogg Vorbis input repeated many times leaves the backend's
#   memory flat (libsndfile leaked 5.7 KB per call before the Ogg page check).
# Memory is read from /proc/self/status through pg_read_file in the session
# that did the work (VmHWM: peak; VmRSS: now).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use SampleidTest;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('bounds');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION sampleid;
	CREATE ROLE prober LOGIN;
	CREATE TABLE input (name text PRIMARY KEY, audio bytea);
	GRANT SELECT ON input TO prober;
	CREATE FUNCTION proc_kb(field text) RETURNS bigint LANGUAGE sql AS $$
		SELECT substring(pg_read_file('/proc/self/status') FROM field || ':\s+(\d+) kB')::bigint $$;
});

# 70 s of a 16 kHz mono sine
my $rate = 16000;
my $seconds = 70;
my $data = pack('s<*', map { int(8000 * sin($_ * 0.05)) } 1 .. $rate * $seconds);
my $wav = wav_bytes($rate, 1, $data);
my $dir = $node->basedir;
write_file_bytes("$dir/long.wav", $wav);
system('sox', '-n', '-r', '44100', '-c', '2', "$dir/tone.ogg", 'synth', '5', 'sine', '440') == 0
  or die 'sox could not write an Ogg Vorbis file';
my $ogg = slurp_file("$dir/tone.ogg");
write_file_bytes("$dir/prefix.ogg", substr($ogg, 0, 4000));
$node->safe_psql('postgres', qq{
	INSERT INTO input VALUES
		('long', pg_read_binary_file('$dir/long.wav')),
		('ogg', pg_read_binary_file('$dir/tone.ogg')),
		('ogg_prefix', pg_read_binary_file('$dir/prefix.ogg')),
		('wav_prefix', substr(pg_read_binary_file('$dir/long.wav'), 1, 4000) );
});

# Run $sql as prober in one session; returns (stdout, stderr, seconds, growth
# of $field in kB).  The superuser reads /proc before and after.
sub measured
{
	my ($sql, $field) = @_;
	my ($out, $err);
	my $t0 = time();
	# the first call of a session loads the libraries (OpenBLAS sizes its
	# buffers then): warm up with a short clip before the first reading
	$node->psql('postgres', qq{
		SELECT count(*) FROM sampleid_audio_segments((SELECT audio FROM input WHERE name = 'ogg'));
		SELECT 'before=' || proc_kb('$field');
		SET ROLE prober;
		$sql;
		RESET ROLE;
		SELECT 'after=' || proc_kb('$field');
	}, stdout => \$out, stderr => \$err, on_error_stop => 0);
	my $elapsed = time() - $t0;
	my ($before) = $out =~ /before=(\d+)/;
	my ($after) = $out =~ /after=(\d+)/;
	die "no $field figures in: $out / $err" unless defined $before && defined $after;
	return ($out, $err, $elapsed, $after - $before);
}

# the issue's reproducers, and every window start on a 70 s clip
for my $args ('16, 60.0, 1.0 / 16000', '1, 300.0, 0.5', '7, 600.0, 0.5', '1, 0.5, 1.0 / 16000',
	'256, 1.0, 1.0 / 16000')
{
	my ($out, $err, $secs, $kb) = measured(
		qq{\\set VERBOSITY sqlstate
		SELECT count(*) FROM sampleid_audio_segments((SELECT audio FROM input WHERE name = 'long'), $args)},
		'VmHWM');
	like($err, qr/ERROR:\s+54000/, "($args) is refused with 54000");
	cmp_ok($kb, '<', 64 * 1024, "($args) raises the peak memory by less than 64 MB");
	note(sprintf('(%s): %.2f s, peak +%d kB', $args, $secs, $kb));
}

# the default arguments still work on the same clip
is($node->safe_psql('postgres',
		q{SET ROLE prober; SELECT count(*) FROM sampleid_audio_segments((SELECT audio FROM input WHERE name = 'long'))}),
	'139', '70 s at the defaults: 139 windows');

# with the limits raised, 60 s windows every 10 ms are cancellable: the
# work between interrupt checks is one batch of at most 4 MB of rows
{
	my ($out, $err);
	my $t0 = time();
	$node->psql('postgres', q{
		SET sampleid.max_segment_frames = 100000;
		SET sampleid.max_segment_output = '100GB';
		SET statement_timeout = '1s';
		\set VERBOSITY sqlstate
		SELECT count(*) FROM sampleid_audio_segments((SELECT audio FROM input WHERE name = 'long'), 16, 60.0, 0.01);
	}, stdout => \$out, stderr => \$err, on_error_stop => 0);
	my $secs = time() - $t0;
	like($err, qr/ERROR:\s+57014/, 'statement_timeout ends the raised-limit call with 57014');
	note(sprintf('cancelled after %.2f s (timeout 1 s)', $secs));
	cmp_ok($secs, '<', 5, 'within a few seconds of the 1 s timeout');
}

# Ogg: a cut inside the headers is refused as malformed (any role), the whole
# file decodes, and repeating the cut input keeps the backend's memory flat
like(($node->psql('postgres',
		q{SET ROLE prober; SELECT sampleid_audio_info(audio) FROM input WHERE name = 'ogg_prefix'}))[2] // '',
	qr/truncated: the Ogg page at byte \d+ needs/, 'an Ogg cut inside its headers is refused');
like($node->safe_psql('postgres',
		q{SET ROLE prober; SELECT channels || ' ' || format FROM sampleid_audio_info((SELECT audio FROM input WHERE name = 'ogg'))}),
	qr/^2 ogg/, 'the whole Ogg file decodes');

# FLAC states its length exactly: info on a cut file refuses it as decoding
# does, while the whole file still works
system('sox', '-n', '-r', '16000', '-c', '1', "$dir/tone.flac", 'synth', '3', 'sine', '440') == 0
  or die 'sox could not write a FLAC file';
write_file_bytes("$dir/cut.flac", substr(slurp_file("$dir/tone.flac"), 0, 20000));
is($node->safe_psql('postgres', qq{SELECT duration_seconds FROM sampleid_audio_file_info('$dir/tone.flac')}),
	'3', 'a whole FLAC file probes');
like(($node->psql('postgres', qq{SELECT sampleid_audio_file_info('$dir/cut.flac')}))[2] // '',
	qr/audio is corrupt: decoding stopped/, 'info refuses a cut FLAC file, as decoding does');

my $calls = 20000;
for my $name ('wav_prefix', 'ogg_prefix')
{
	my ($out, $err, $secs, $kb) = measured(qq{
		DO \$\$
		DECLARE b bytea := (SELECT audio FROM input WHERE name = '$name');
		BEGIN
			FOR i IN 1 .. $calls LOOP
				BEGIN
					PERFORM sampleid_audio_info(b);
				EXCEPTION WHEN OTHERS THEN NULL;
				END;
				BEGIN
					PERFORM count(*) FROM sampleid_audio_segments(b);
				EXCEPTION WHEN OTHERS THEN NULL;
				END;
			END LOOP;
		END \$\$}, 'VmRSS');
	note(sprintf('%s: %d x 2 calls in %.1f s, RSS %+d kB', $name, $calls, $secs, $kb));
	cmp_ok($kb, '<', 8 * 1024, "$name: $calls x 2 failing calls grow the backend by less than 8 MB");
}

$node->stop;
done_testing();
