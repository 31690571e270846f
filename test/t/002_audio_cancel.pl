# A long decode is cancellable: statement_timeout stops sampleid_audio_file_segments
# while libsndfile/libsoxr are working, and the backend stays usable.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use SampleidTest;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('audio');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION sampleid');

# 20 minutes of 48 kHz stereo 16-bit WAV (230 MB): with libsoxr a 5-minute
# file decoded in 0.4 s, too close to the timeout to tell where a cancel lands
my $rate = 48000;
my $seconds = 1200;
my $one_second = pack('s<*', map { int(8000 * sin($_ * 0.05)) } 1 .. 2 * $rate);
my $data = $one_second x $seconds;
my $path = $node->basedir . '/long.wav';
write_pcm_wav($path, $rate, 2, $data);

is($node->safe_psql('postgres', "SELECT duration_seconds, channels FROM sampleid_audio_file_info('$path')"),
	"$seconds|2", 'header of the long file');

# and a one-second clip of the same audio, decoded after the cancel
my $short = $node->basedir . '/short.wav';
write_pcm_wav($short, $rate, 2, $one_second);

# the whole decode, for scale
my $t0 = time();
$node->safe_psql('postgres', "SELECT count(*) FROM sampleid_audio_file_segments('$path')");
my $full = time() - $t0;

# one session: the cancelled decode, then the short clip in the same backend
my ($stdout, $stderr);
$t0 = time();
$node->psql('postgres', qq{
	SET statement_timeout = '200ms';
	SELECT count(*) FROM sampleid_audio_file_segments('$path');
	RESET statement_timeout;
	SELECT 'short', count(*) FROM sampleid_audio_file_segments('$short');
}, stdout => \$stdout, stderr => \$stderr, on_error_stop => 0);
like($stderr, qr/canceling statement due to statement timeout/, 'statement_timeout cancels the long decode');
my $cancelled = time() - $t0;
note(sprintf('full decode %.2f s, cancelled after %.2f s', $full, $cancelled));
cmp_ok($cancelled, '<', $full / 2, 'the cancel stops the decode itself, not the rows after it');
like($stdout, qr/^short\|1$/m, 'the same backend then decodes a short clip');

$node->stop;
done_testing();
