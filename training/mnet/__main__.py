from training.mnet.run import main

raise SystemExit(main())
