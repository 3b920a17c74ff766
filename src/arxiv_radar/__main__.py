from arxiv_radar.cli import main

main()
