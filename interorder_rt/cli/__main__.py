from interorder_rt.cli.main import main

raise SystemExit(main())
