"""The local demo marketplace and its ground-truth world generator (issue 3).

Contract other stages rely on
=============================

CLI (`demo.cli.register(subparsers)` adds both; `python -m demo ...` works without adwatch/cli.py):
  generate --ads N --seed S --out DIR [--days 60] [--controller-share 0.3] [--workers W]
           [--no-obfuscation] [--no-text-noise] [--no-image-variation] [--no-hard-negatives] [--no-faults]
           [--family F[,F...]] [--languages L,..] [--evasive-share X] [--evasive-kinds K,..] [--evasive-sizes N,..]
           [--partial-share X] [--drift | --no-drift] [--no-city-share X] [--no-extra-hard-negatives]
           (world families: demo.family)
  serve    --world DIR [--port 8765] [--day K] [--rate-limit 20] [--burst 40] [--crawl-delay 0.2]
           [--slow-ms 500] [--page-size 20] [--no-faults] [--access-log FILE]
  Exit codes: 0 ok, 2 bad input (missing/corrupt world, day out of range, --out not a world dir).

Python:
  demo.generator.generate_world(out_dir, n_ads, seed, workers=None, family="baseline",
                                **Switches fields, **Family parameters) -> WorldSummary
      family: "baseline" | "multilingual,evasive,..." | [names]; the baseline world is byte-identical to the
      world made before families existed; "partial" with drift=False is a line-for-line sample of it.
  demo.server.start_server(world_dir, port=0, day=None, **ServeOptions fields) -> MarketServer
      .url .port .day .access_log (list of {time, client, method, path, status, bytes, user_agent})
      .set_day(k) .stop()      (also: POST /_world {"day": K}; GET /_world)
  demo.server.is_disallowed(path) -> bool   (robots.txt rules, for checking an access log)
  demo.world.load_world(dir) -> World (.meta, .ads: list[AdRecord]); read_ads(dir) -> {ad_id: raw JSON record};
      read_truth(dir) -> [truth dicts] (family keys filled in for baseline worlds); evidence_keys(record) -> the
      poster evidence an ad carries, hard negatives left out; day_changes(truth, day) -> {new, edited, removed};
      WorldError names the path.

World directory:
  world.json   version, complete, seed, n_ads (ads written), days, day0 ("2026-01-01"), switches, counts,
               family {names, languages, evasive_share, evasive_kinds, evasive_sizes, partial_share, drift, no_city_share,
               extra_hard_negatives, world_ads (ads in the whole world), counts {languages, evasive, planted_evasive}},
               hard_negatives {switchboards, stock_photos} (family worlds), footer {site: {phone, shown, email,
               handle, label, country, language, text}} (footer worlds)
  ads.jsonl    what the server renders: ad_id, flavour, category, title, body, contact, price, currency,
               city, region, country (ISO alpha-2), first_day, removed_day, removed_status (404|410),
               edits [{day, changes: {price?, body?}}], images [file under images/], faults [names],
               missing_fields, image_faults {file: corrupt|oversized}
  truth.jsonl  one line per ad, same order: ad_id (as shown on the page), site (demo-html|demo-js),
               flavour, poster_id (the true entity: controller "c00012" or independent poster "p000345";
               honest sellers with several ads share one), poster_kind, controller_id (null for
               independents), phones (E.164, real ones only), emails, handles ("telegram:@name"),
               contacts [{kind, value, shown, tail, obfuscation, where}], template_id, category, city,
               country, first_day, removed_day, removed_status, edits [{day, fields}], text_variations
               (typos|emoji|leetspeak|shuffle), images [{file, base_id, transforms, params, flipped,
               stock, fault, reused}], hard_negatives {boilerplate, placeholder_phone, stock_photo},
               faults, missing_fields.
               Worlds whose ads a family changes add: language, evasion ({kind, kept, value, planted} or null),
               footer ({phone, email, handle} of the page footer, not the ad's; or null), shown_location
               {city, region, country} (what the page shows; truth city/country stay the real ones), and
               hard_negatives {switchboard, footer_phone, shared_template, stock_bases}. A switchboard is in
               `phones` (it is on the ad); a footer phone is not. Contact obfuscations add pairs, mixed (numbers
               in words) and spelled (emails).
  images/      JPEG files, 640x480 before variation; stock/stock-{0,1,2}.jpg is the shared stock photo

Sites on one port: `demo-html` under /html/, `demo-js` under /js/ (see demo.server for the URL map and
demo.pages_html / demo.pages_js for the markup). Ad ids: "H0000123" (html) and "J0000124" (js); the number
is unique across both and grows with posting time. Day K shows ads with first_day <= K < removed_day,
with the edits of days <= K applied; listings show price and an updated date, so an edit changes them.
"""
