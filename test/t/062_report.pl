# `sampleid report` on a matches table the test fills by hand (sampleid match
# will fill it): the CSV has one row per use with the catalogue's title,
# artist and rights holder; the HTML page, rendered by headless Chromium,
# lists every use and the rights holders' totals and is not blank.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Compress::Zlib;

my $repo = $ENV{SAMPLEID_REPO} or plan skip_all => 'SAMPLEID_REPO is not set';
my $cli = "$repo/build/sampleid";
plan skip_all => "$cli is not built" unless -x $cli;
plan skip_all => "no shipped model $repo/models/fp.sidm" unless -f "$repo/models/fp.sidm";
my $dir = PostgreSQL::Test::Utils::tempdir();

sub run_cmd
{
	my ($out, $err) = ('', '');
	IPC::Run::run([@_], '<', \'', '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my $node = PostgreSQL::Test::Cluster->new('report');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION sampleid');
my $dsn = $node->connstr('postgres');
sub sql { $node->safe_psql('postgres', $_[0]) }

# a catalogue of three recordings, made by sampleid ingest --create
my @catalogue = (
	[ 'river.wav', 'River Song', 'Ada & the Lovelaces', 'Analytical <Engines> Ltd' ],
	[ 'storm.wav', 'Storm, "Live"', 'Bo Diddley', 'Analytical <Engines> Ltd' ],
	[ 'dawn.wav', 'Dawn', 'Cécile', 'Éditions Aube' ]);
my $list = '';
for my $c (@catalogue)
{
	(run_cmd('sox', '-n', '-r', '16000', '-b', '16', '-c', '1', "$dir/$c->[0]", 'synth', '3', 'pluck', '220'))[0] == 0
	  or die 'sox failed';
	$list .= join("\t", "$dir/$c->[0]", @$c[ 1 .. 3 ]) . "\n";
}
open(my $fh, '>', "$dir/list.tsv") or die;
print $fh $list;
close $fh;
my ($rc, $out, $err) = run_cmd($cli, 'ingest', '--dsn', $dsn, '--model-dir', "$repo/models", '--create',
	'--list', "$dir/list.tsv");
is($rc, 0, 'the catalogue is ingested') or diag($err);

# the uses, as sampleid match would write them
my %id = map { split /\|/ } split /\n/, sql('SELECT audio_path, id FROM recordings');
$_->[4] = $id{"$dir/$_->[0]"} for @catalogue;
my @uses = (
	# work, work_start, work_end, catalogue entry, recording_start, recording_end, confidence
	[ 'new_single.flac', 4.5, 12.5, 0, 30, 38, 0.875 ],
	[ 'new_single.flac', 20, 26, 2, 0, 6, 0.5 ],
	[ 'new_single.flac', 40, 41.5, 0, 60, 61.5, 0.625 ],
	[ 'remix, "B-side".wav', 0, 10, 1, 10, 20, 0.75 ]);
sql('INSERT INTO matches (work, work_start, work_end, recording_id, recording_start, recording_end, confidence, model) VALUES '
	  . join(', ', map { my $u = $_; (my $w = $u->[0]) =~ s/'/''/g; "('$w', $u->[1], $u->[2], $catalogue[$u->[3]][4], $u->[4], $u->[5], $u->[6], 'fp')" } @uses));

($rc, $out, $err) = run_cmd($cli, 'report', '--dsn', $dsn, '--csv', "$dir/report.csv", '--html', "$dir/report.html");
is($rc, 0, 'the report is written') or diag($err);
like($err, qr/4 uses of 2 rights holders/, 'and summarised');

sub csv_field { my $s = shift; $s =~ /[,"\r\n]/ ? '"' . ($s =~ s/"/""/gr) . '"' : $s }
my @sorted = sort { $a->[0] cmp $b->[0] || $a->[1] <=> $b->[1] } @uses;
my $want = "work,work_start,work_end,recording_id,title,artist,rights_holder,recording_start,recording_end,seconds,confidence,model\r\n"
  . join('', map {
	my $u = $_;
	my $c = $catalogue[ $u->[3] ];
	join(',', map { csv_field($_) } $u->[0], $u->[1], $u->[2], $c->[4], @$c[ 1 .. 3 ], $u->[4], $u->[5],
		$u->[2] - $u->[1], $u->[6], 'fp') . "\r\n"
  } @sorted);
open($fh, '<:raw', "$dir/report.csv") or die;
my $csv = do { local $/; <$fh> };
close $fh;
is($csv, $want, 'the CSV: one row per use, catalogue columns joined in, RFC 4180 quoting');

($rc, $out, $err) = run_cmd($cli, 'report', '--dsn', $dsn, '--matches', 'no_such_table', '--csv', '-');
is($rc, 1, 'a missing matches table fails');
like($err, qr/relation "no_such_table" does not exist/, 'naming it');

# the page in a real browser
my $chromium = (grep { -x $_ } '/usr/bin/chromium', '/usr/bin/chromium-browser')[0];
SKIP:
{
	skip 'Debian chromium is not installed', 6 unless $chromium;
	my @browser = ($chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
		'--no-first-run', "--user-data-dir=$dir/chromium", '--window-size=1100,900');
	local $ENV{HOME} = $dir;
	($rc, $out, $err) = run_cmd(@browser, "--screenshot=$dir/shot.png", "file://$dir/report.html");
	ok(-s "$dir/shot.png", 'chromium renders the page to a screenshot') or diag($err);
	my ($w, $h, $inked, $colours) = png_ink("$dir/shot.png");
	cmp_ok($inked, '>', 0.01 * $w * $h, "the screenshot is not blank ($inked of ${w}x$h pixels differ from the background)");
	cmp_ok($colours, '>=', 3, "and has text and the timeline's bars ($colours colours)");
	($rc, $out, $err) = run_cmd(@browser, '--dump-dom', "file://$dir/report.html");
	my @rows = $out =~ /<tr class="use">(.*?)<\/tr>/g;
	is(scalar @rows, 4, 'the rendered page lists the four uses');
	like($rows[0], qr/4\.5–12\.5 s.*River Song.*Ada &amp; the Lovelaces.*Analytical &lt;Engines&gt; Ltd.*30\.0–38\.0 s.*8\.0.*0\.88/,
		'each with its times, recording, artist, rights holder and confidence');
	like($out, qr/<tr class="holder"><td>Analytical &lt;Engines&gt; Ltd<\/td><td>2<\/td><td>3<\/td><td>19\.5<\/td>.*<tr class="holder"><td>Éditions Aube<\/td><td>1<\/td><td>1<\/td><td>6\.0<\/td>/s,
		'and the rights holders with works, uses and seconds used');
}

# (width, height, pixels unlike the top-left one, distinct colours) of an 8-bit RGB(A) PNG
sub png_ink
{
	my ($path) = @_;
	open(my $in, '<:raw', $path) or die "$path: $!";
	my $png = do { local $/; <$in> };
	close $in;
	my ($pos, $idat, $w, $h, $type) = (8, '');
	while ($pos < length $png)
	{
		my ($len, $kind) = unpack('N A4', substr($png, $pos, 8));
		my $data = substr($png, $pos + 8, $len);
		($w, $h, undef, $type) = unpack('N N C C', $data) if $kind eq 'IHDR';
		$idat .= $data if $kind eq 'IDAT';
		$pos += 12 + $len;
	}
	my $bpp = $type == 6 ? 4 : 3;
	my $raw = Compress::Zlib::uncompress($idat) // die 'bad PNG data';
	my ($prev, %seen, $bg) = ("\0" x ($w * $bpp));
	my $inked = 0;
	for my $y (0 .. $h - 1)
	{
		my $filter = ord substr($raw, $y * ($w * $bpp + 1), 1);
		my @cur = unpack('C*', substr($raw, $y * ($w * $bpp + 1) + 1, $w * $bpp));
		my @up = unpack('C*', $prev);
		for my $i (0 .. $#cur)
		{
			my $a = $i >= $bpp ? $cur[ $i - $bpp ] : 0;
			my $b = $up[$i];
			my $c = $i >= $bpp ? $up[ $i - $bpp ] : 0;
			my $p = $a + $b - $c;
			my ($pa, $pb, $pc) = (abs($p - $a), abs($p - $b), abs($p - $c));
			my $pred = $filter == 1 ? $a : $filter == 2 ? $b : $filter == 3 ? int(($a + $b) / 2)
			  : $filter == 4 ? ($pa <= $pb && $pa <= $pc ? $a : $pb <= $pc ? $b : $c) : 0;
			$cur[$i] = ($cur[$i] + $pred) & 255;
		}
		$prev = pack('C*', @cur);
		for (my $i = 0; $i < @cur; $i += $bpp)
		{
			my $px = join ',', @cur[ $i .. $i + 2 ];
			$bg //= $px;
			$inked++ if $px ne $bg;
			$seen{$px} = 1;
		}
	}
	return ($w, $h, $inked, scalar keys %seen);
}

$node->stop;
done_testing();
