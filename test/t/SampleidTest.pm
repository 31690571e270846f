# What several TAP files share: audio the tests write themselves.
# `use FindBin; use lib $FindBin::Bin; use SampleidTest;` (scripts/test.sh
# copies this file beside them).
package SampleidTest;
use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
our @EXPORT = qw(write_notes wav_bytes write_pcm_wav write_file_bytes);
# on request (`use SampleidTest qw(:DEFAULT run_with_input sox write_drums)`):
# files that define their own run_cmd and sox keep them
our @EXPORT_OK = qw(run_with_input sox write_drums write_no_match);

# Runs a command with $in (a scalar ref) on its stdin: (exit status, stdout, stderr).
sub run_with_input
{
	my ($in, @cmd) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([@cmd], '<', $in, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# sox with these arguments; dies with its message when it fails.
sub sox
{
	my ($rc, undef, $err) = run_with_input(\'', 'sox', @_);
	die "sox @_: $err" if $rc != 0;
}

# A drum loop at 120 BPM, 16-bit mono: kick on beats 1 and 3 (a falling
# sine), snare on 2 and 4 (noise and a 180 Hz tone), hats on every eighth
# (differenced noise); the noise from a seeded LCG, so every run is the same.
sub write_drums
{
	my ($path, $seconds, $rate) = @_;
	my ($x, $beat) = (20261201, 0.5);
	my $noise = sub { $x = (1103515245 * $x + 12345) % 2147483648; return 2 * $x / 2147483648 - 1 };
	my ($last, @s) = (0);
	for my $i (0 .. int($seconds * $rate) - 1)
	{
		my $t = $i / $rate;
		my $in_beat = $t - $beat * int($t / $beat);
		my $beat_no = int($t / $beat) % 4;
		my $in_eighth = $t - $beat / 2 * int($t / ($beat / 2));
		my $n = $noise->();
		my $v = 0;
		if ($beat_no == 0 || $beat_no == 2)
		{
			my $f = 45 + 75 * exp(-$in_beat / 0.03);
			$v += 0.9 * exp(-$in_beat / 0.08) * sin(2 * 3.14159265358979 * $f * $in_beat);
		}
		else
		{
			$v += exp(-$in_beat / 0.05) * (0.4 * $n + 0.3 * sin(2 * 3.14159265358979 * 180 * $in_beat));
		}
		$v += 0.25 * exp(-$in_eighth / 0.015) * ($n - $last);
		$last = $n;
		push @s, int(12000 * $v);
	}
	write_pcm_wav($path, $rate, 1, pack('s<*', @s));
}

# Two queries that are in no music catalogue, 16 kHz mono: $dir/speech.wav
# (espeak-ng) and $dir/noise.wav (10 s of brown noise, seeded: sox -R).
sub write_no_match
{
	my ($dir) = @_;
	system('espeak-ng', '-s', '150', '-w', "$dir/speech_raw.wav",
		'This announcement is not in the catalogue and should not match any recording at all, not even once.') == 0
	  or die 'espeak-ng failed';
	sox("$dir/speech_raw.wav", '-r', '16000', '-c', '1', '-b', '16', "$dir/speech.wav");
	sox('-R', '-n', '-r', '16000', '-c', '1', '-b', '16', "$dir/noise.wav", 'synth', '10', 'brownnoise', 'vol', '0.3');
}

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
