# What several TAP files share: audio the tests write themselves.
# `use FindBin; use lib $FindBin::Bin; use SampleidTest;` (scripts/test.sh
# copies this file beside them).
package SampleidTest;
use strict;
use warnings;
use Exporter 'import';
our @EXPORT = qw(write_notes wav_bytes write_pcm_wav write_file_bytes);

# 16-bit mono WAV of 0.25 s notes whose pitches follow a seeded LCG
sub write_notes
{
	my ($path, $seconds, $rate, $seed) = @_;
	my ($x, $f, $phase) = ($seed, 440, 0);
	my @s;
	for my $i (0 .. int($seconds * $rate) - 1)
	{
		if ($i % int($rate / 4) == 0)
		{
			$x = (1103515245 * $x + 12345) % 2147483648;
			$f = 150 * 2**(4 * $x / 2147483648);
		}
		$phase += 2 * 3.14159265358979 * $f / $rate;
		push @s, int(9000 * sin($phase) + 3000 * sin(2 * $phase));
	}
	write_pcm_wav($path, $rate, 1, pack('s<*', @s));
}

# A 16-bit PCM WAV file's bytes around $pcm (interleaved little-endian samples).
sub wav_bytes
{
	my ($rate, $channels, $pcm) = @_;
	return 'RIFF' . pack('V', 36 + length $pcm) . 'WAVE'
	  . 'fmt ' . pack('VvvVVvv', 16, 1, $channels, $rate, $rate * 2 * $channels, 2 * $channels, 16)
	  . 'data' . pack('V', length $pcm) . $pcm;
}

sub write_file_bytes
{
	my ($path, $bytes) = @_;
	open(my $fh, '>:raw', $path) or die "cannot write $path: $!";
	print $fh $bytes;
	close $fh;
}

sub write_pcm_wav
{
	my ($path, $rate, $channels, $pcm) = @_;
	write_file_bytes($path, wav_bytes($rate, $channels, $pcm));
}

1;
