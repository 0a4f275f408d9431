# Inputs -> one manifest per chunk: a site's pages are scraped, or a folder is listed.

if FOLDER:

    rule ingest:
        input:
            core_of("ingest"),
        output:
            "results/manifest/{chunk}.parquet",
        log:
            "logs/ingest/{chunk}.log",
        benchmark:
            "results/benchmarks/ingest/{chunk}.tsv"
        conda:
            ENV
        params:
            folder=FOLDER,
            files=folder_files,
            stamp=folder_stamp,
            follow_symlinks=SOURCE["follow_symlinks"],
            max_bytes=SOURCE["max_bytes"],
        script:
            "../../scripts/ingest.py"

    rule skipped:
        input:
            code=core_of("skipped"),
        output:
            "results/skipped.csv",
        log:
            "logs/skipped.log",
        benchmark:
            "results/benchmarks/skipped.tsv"
        conda:
            ENV
        params:
            entries=skipped_entries(),
        script:
            "../../scripts/skipped.py"

else:

    rule scrape:
        input:
            site_input,
            core_of("scrape"),
        output:
            "results/manifest/{chunk}.parquet",
        log:
            "logs/scrape/{chunk}.log",
        benchmark:
            "results/benchmarks/scrape/{chunk}.tsv"
        conda:
            ENV
        params:
            pages=chunk_pages,
            root=SITE["root"],
            page_path=lambda wildcards: SITE["page_path"],  # "{page}" is not a wildcard
            selector=SITE["selector"],
            timeout=SITE["timeout"],
            delay=SITE["delay"],
            retries=SITE["retries"],
            max_image_bytes=SITE["max_image_bytes"],
            concurrency=SITE["concurrency"],
            allowed_hosts=SITE["allowed_hosts"],
            user_agent=SITE["user_agent"],
            images_dir="results/images",
        script:
            "../../scripts/scrape.py"
