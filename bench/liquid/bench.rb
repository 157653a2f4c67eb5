# Ruby (Shopify Liquid) side of bench/liquid: same templates, same data, same measurement.
#   ruby bench.rb DIR SECONDS OUTDIR name...
require "liquid"
require "json"

dir, secs, outdir, *names = ARGV
secs = secs.to_f
names = %w[invitation table] if names.empty?
mono = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }

names.each do |name|
  source = File.read(File.join(dir, "#{name}.liquid"))
  data = JSON.parse(File.read(File.join(dir, "#{name}.json")))
  template = Liquid::Template.parse(source, error_mode: :strict)
  parses = 0
  t0 = mono.call
  while (mono.call - t0) < [0.3, secs / 4].min || parses < 10
    template = Liquid::Template.parse(source, error_mode: :strict)
    parses += 1
  end
  parse_us = (mono.call - t0) / parses * 1e6
  output = ""
  20.times { output = template.render!(data) }
  renders = 0
  t0 = mono.call
  elapsed = 0.0
  while elapsed < secs
    16.times { output = template.render!(data) }
    renders += 16
    elapsed = mono.call - t0
  end
  printf("ruby %s parse_us=%.1f renders_per_s=%.0f bytes=%d\n", name, parse_us, renders / elapsed, output.bytesize)
  File.write(File.join(outdir, "#{name}.ruby.html"), output) if outdir && !outdir.empty?
end
